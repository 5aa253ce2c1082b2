/* sluice: a tiny AML byte emitter. Section numbers are ACPI 6.4. */
#include <errno.h>
#include <string.h>

#include "vmm/aml.h"

/* §20.3 opcode values */
enum {
	AML_ZERO	= 0x00,
	AML_ONE		= 0x01,
	AML_NAME	= 0x08,
	AML_BYTE	= 0x0a,
	AML_WORD	= 0x0b,
	AML_DWORD	= 0x0c,
	AML_STRING	= 0x0d,
	AML_QWORD	= 0x0e,
	AML_SCOPE	= 0x10,
	AML_BUFFER	= 0x11,
	AML_PACKAGE	= 0x12,
	AML_METHOD	= 0x14,
	AML_DUAL_NAME	= 0x2e,
	AML_MULTI_NAME	= 0x2f,
	AML_EXT_PREFIX	= 0x5b,
	AML_EXT_DEVICE	= 0x82,
	AML_ROOT_CHAR	= 0x5c,
	AML_PARENT_CHAR	= 0x5e,
	AML_LOCAL0	= 0x60,
	AML_ARG0	= 0x68,
	AML_IF		= 0xa0,
	AML_ELSE	= 0xa1,
	AML_RETURN	= 0xa4,
};

/* MethodFlags (§20.2.5.2): ArgCount in bits 2:0, SerializeFlag bit 3, SyncLevel 0 */
#define METHOD_SERIALIZED	0x08

/* *_begin() reserve the longest PkgLength and aml_end() shrinks it. */
#define PKGLEN_RESERVE	4

void aml_init(struct aml *a, void *buf, size_t cap)
{
	a->buf = buf;
	a->cap = cap;
	a->len = 0;
	a->err = 0;
}

static void fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err || !n)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void put8(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

/* AML and resource descriptors are little-endian (§20.2.3, §6.4). */
static void put_le(struct aml *a, uint64_t v, unsigned nbytes)
{
	uint8_t b[8];
	unsigned i;

	for (i = 0; i < nbytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, nbytes);
}

/* Largest PkgLength value an n-byte encoding holds (§20.2.4). */
static uint32_t pkglen_max(size_t n)
{
	return n == 1 ? 0x3f : (1u << (4 + 8 * (n - 1))) - 1;
}

/*
 * §20.2.4: one byte holds 6 bits; otherwise bits 7:6 of the lead byte give
 * the count of following bytes, its bits 3:0 the low nibble, and each
 * following byte 8 more bits.
 */
size_t aml_pkglen_encode(uint8_t out[4], uint32_t value)
{
	size_t n, i;

	if (value > AML_PKGLEN_MAX)
		return 0;
	for (n = 1; value > pkglen_max(n); n++)
		;
	if (n == 1) {
		out[0] = (uint8_t)value;
		return 1;
	}
	out[0] = (uint8_t)((n - 1) << 6 | (value & 0xf));
	for (i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return n;
}

size_t aml_pkglen_decode(const uint8_t *p, size_t avail, uint32_t *value)
{
	size_t n, i;
	uint32_t v;

	if (!avail)
		return 0;
	n = (size_t)(p[0] >> 6) + 1;
	if (n == 1) {
		*value = p[0] & 0x3f;
		return 1;
	}
	if (avail < n)
		return 0;
	v = p[0] & 0xf;
	for (i = 1; i < n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*value = v;
	return n;
}

static size_t pkg_open(struct aml *a)
{
	static const uint8_t zero[PKGLEN_RESERVE];
	size_t mark = a->len;

	aml_bytes(a, zero, sizeof(zero));
	return mark;
}

/* Replace the reserved bytes at @mark by the shortest PkgLength that fits. */
void aml_end(struct aml *a, size_t mark)
{
	uint8_t enc[4];
	size_t body, n;

	if (a->err)
		return;
	if (mark > a->len || a->len - mark < PKGLEN_RESERVE) {
		fail(a, -EINVAL);
		return;
	}
	body = a->len - mark - PKGLEN_RESERVE;
	for (n = 1; n <= 4 && body + n > pkglen_max(n); n++)
		;
	if (n > 4) {
		fail(a, -E2BIG);
		return;
	}
	aml_pkglen_encode(enc, (uint32_t)(body + n));
	memmove(a->buf + mark + n, a->buf + mark + PKGLEN_RESERVE, body);
	memcpy(a->buf + mark, enc, n);
	a->len -= PKGLEN_RESERVE - n;
}

/* NameSeg (§20.2.2): a lead character A-Z or '_', then A-Z, 0-9 or '_'. */
static void put_nameseg(struct aml *a, const char *s, size_t n)
{
	char seg[4];
	size_t i;

	if (n == 0 || n > 4 || (s[0] >= '0' && s[0] <= '9')) {
		fail(a, -EINVAL);
		return;
	}
	memset(seg, '_', sizeof(seg));
	for (i = 0; i < n; i++) {
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9'))) {
			fail(a, -EINVAL);
			return;
		}
		seg[i] = s[i];
	}
	aml_bytes(a, seg, sizeof(seg));
}

/* NameString := RootChar NamePath | PrefixPath NamePath (§20.2.2) */
void aml_namestring(struct aml *a, const char *path)
{
	size_t nsegs = 1;
	const char *p;

	if (*path == '\\') {
		put8(a, AML_ROOT_CHAR);
		path++;
	}
	for (; *path == '^'; path++)
		put8(a, AML_PARENT_CHAR);
	if (*path == '\0') {
		put8(a, 0);	/* NullName */
		return;
	}
	for (p = path; *p; p++)
		nsegs += *p == '.';
	if (nsegs > 255) {
		fail(a, -EINVAL);
		return;
	}
	if (nsegs == 2)
		put8(a, AML_DUAL_NAME);
	if (nsegs > 2) {
		put8(a, AML_MULTI_NAME);
		put8(a, (uint8_t)nsegs);
	}
	while (*path) {
		size_t n = strcspn(path, ".");

		put_nameseg(a, path, n);
		path += n + (path[n] == '.');
	}
}

void aml_int(struct aml *a, uint64_t v)
{
	if (v <= 1) {
		put8(a, v ? AML_ONE : AML_ZERO);
		return;
	}
	if (v <= 0xff) {
		put8(a, AML_BYTE);
		put_le(a, v, 1);
	} else if (v <= 0xffff) {
		put8(a, AML_WORD);
		put_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		put8(a, AML_DWORD);
		put_le(a, v, 4);
	} else {
		put8(a, AML_QWORD);
		put_le(a, v, 8);
	}
}

/* String := StringPrefix AsciiCharList NullChar, chars 0x01-0x7f (§20.2.3) */
void aml_string(struct aml *a, const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			fail(a, -EINVAL);
			return;
		}
	}
	put8(a, AML_STRING);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hexval_anycase(char c)
{
	return hexval(c >= 'a' && c <= 'f' ? (char)(c - 'a' + 'A') : c);
}

/*
 * EISA type ID "PNP0A03" (§6.1.5): three letters of 5 bits each, then four hex
 * digits, stored most significant byte first in a DWord integer.
 */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;
	int i;

	if (strlen(id) != 7) {
		fail(a, -EINVAL);
		return;
	}
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			fail(a, -EINVAL);
			return;
		}
		v |= (uint32_t)(id[i] - 0x40) << (26 - 5 * i);
	}
	for (i = 3; i < 7; i++) {
		if (hexval(id[i]) < 0) {
			fail(a, -EINVAL);
			return;
		}
		v |= (uint32_t)hexval(id[i]) << (4 * (6 - i));
	}
	put8(a, AML_DWORD);
	put_le(a, __builtin_bswap32(v), 4);
}

void aml_name(struct aml *a, const char *path)
{
	put8(a, AML_NAME);
	aml_namestring(a, path);
}

void aml_return(struct aml *a)
{
	put8(a, AML_RETURN);
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	size_t mark;

	put8(a, AML_SCOPE);
	mark = pkg_open(a);
	aml_namestring(a, path);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *path)
{
	size_t mark;

	put8(a, AML_EXT_PREFIX);
	put8(a, AML_EXT_DEVICE);
	mark = pkg_open(a);
	aml_namestring(a, path);
	return mark;
}

size_t aml_method_begin(struct aml *a, const char *path, unsigned nargs, bool serialized)
{
	size_t mark;

	if (nargs > 7)
		fail(a, -EINVAL);
	put8(a, AML_METHOD);
	mark = pkg_open(a);
	aml_namestring(a, path);
	put8(a, (uint8_t)((nargs & 7) | (serialized ? METHOD_SERIALIZED : 0)));
	return mark;
}

/* DefIfElse := IfOp PkgLength Predicate TermList DefElse (§20.2.5.3) */
size_t aml_if_begin(struct aml *a)
{
	put8(a, AML_IF);
	return pkg_open(a);
}

size_t aml_else_begin(struct aml *a)
{
	put8(a, AML_ELSE);
	return pkg_open(a);
}

void aml_arg(struct aml *a, unsigned n)
{
	if (n > 6) {
		fail(a, -EINVAL);
		return;
	}
	put8(a, (uint8_t)(AML_ARG0 + n));
}

void aml_local(struct aml *a, unsigned n)
{
	if (n > 7) {
		fail(a, -EINVAL);
		return;
	}
	put8(a, (uint8_t)(AML_LOCAL0 + n));
}

void aml_op(struct aml *a, enum aml_op op)
{
	put8(a, (uint8_t)op);
}

/* DefBuffer := BufferOp PkgLength BufferSize ByteList (§20.2.5.4) */
void aml_buffer(struct aml *a, const void *bytes, size_t n)
{
	size_t mark;

	put8(a, AML_BUFFER);
	mark = pkg_open(a);
	aml_int(a, n);
	aml_bytes(a, bytes, n);
	aml_end(a, mark);
}

/*
 * "aabbccdd-eeff-gghh-iijj-kkllmmnnoopp" is stored as dd cc bb aa ff ee hh gg
 * ii jj kk ll mm nn oo pp (§19.6.142): @order gives, for each output byte,
 * the index of its two digits in the string.
 */
void aml_uuid(struct aml *a, const char *uuid)
{
	static const uint8_t order[16] = {
		6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26, 28, 30, 32, 34,
	};
	uint8_t b[16];
	size_t i;

	if (strlen(uuid) != 36 || uuid[8] != '-' || uuid[13] != '-' || uuid[18] != '-' ||
	    uuid[23] != '-') {
		fail(a, -EINVAL);
		return;
	}
	for (i = 0; i < 16; i++) {
		int hi = hexval_anycase(uuid[order[i]]), lo = hexval_anycase(uuid[order[i] + 1]);

		if (hi < 0 || lo < 0) {
			fail(a, -EINVAL);
			return;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	aml_buffer(a, b, sizeof(b));
}

size_t aml_package_begin(struct aml *a, unsigned nelems)
{
	size_t mark;

	if (nelems > 255)	/* else VarPackageOp */
		fail(a, -EINVAL);
	put8(a, AML_PACKAGE);
	mark = pkg_open(a);
	put8(a, (uint8_t)nelems);
	return mark;
}

/*
 * BufferOp PkgLength BufferSize ByteList (§20.2.5.4). BufferSize is not known
 * until the end, so it is always a WordConst, filled in by restemplate_end.
 */
size_t aml_restemplate_begin(struct aml *a)
{
	size_t mark;

	put8(a, AML_BUFFER);
	mark = pkg_open(a);
	put8(a, AML_WORD);
	put_le(a, 0, 2);
	return mark;
}

void aml_restemplate_end(struct aml *a, size_t mark)
{
	static const uint8_t end_tag[2] = { 0x79, 0x00 };	/* checksum 0: §6.4.2.9 */
	size_t size;

	aml_bytes(a, end_tag, sizeof(end_tag));
	if (a->err)
		return;
	if (mark > a->len || a->len - mark < PKGLEN_RESERVE + 3) {
		fail(a, -EINVAL);
		return;
	}
	size = a->len - mark - PKGLEN_RESERVE - 3;
	if (size > 0xffff) {
		fail(a, -E2BIG);
		return;
	}
	a->buf[mark + PKGLEN_RESERVE + 1] = (uint8_t)size;
	a->buf[mark + PKGLEN_RESERVE + 2] = (uint8_t)(size >> 8);
	aml_end(a, mark);
}

/* Small I/O Port Descriptor, 16-bit decode (§6.4.2.5) */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	put8(a, 0x47);
	put8(a, 0x01);
	put_le(a, base, 2);	/* _MIN */
	put_le(a, base, 2);	/* _MAX */
	put8(a, 1);		/* _ALN */
	put8(a, len);
}

/* IRQ Descriptor, two-byte form: edge-triggered, active high (§6.4.2.1) */
void aml_res_irq(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		fail(a, -EINVAL);
		return;
	}
	put8(a, 0x22);
	put_le(a, 1u << irq, 2);
}

/* 32-Bit Fixed Memory Range Descriptor, read-write (§6.4.3.4) */
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	put8(a, 0x86);
	put_le(a, 9, 2);
	put8(a, 0x01);
	put_le(a, base, 4);
	put_le(a, len, 4);
}

/* Address Space Descriptors (§6.4.3.5.1-3) share one layout in 2/4/8-byte fields. */
enum { RES_MEM = 0, RES_IO = 1, RES_BUS = 2 };

struct addr_desc {
	uint8_t tag;		/* 0x8a QWord, 0x87 DWord, 0x88 Word */
	unsigned width;		/* bytes per field */
	uint8_t type;
	uint8_t tflags;		/* §6.4.3.5.5 resource type specific flags */
};

static void res_addr(struct aml *a, const struct addr_desc *d, uint64_t min, uint64_t len)
{
	/* General flags: producer, positive decode, _MIF and _MAF fixed */
	const uint8_t gflags = 0x0c;

	put8(a, d->tag);
	put_le(a, 3 + 5 * d->width, 2);
	put8(a, d->type);
	put8(a, gflags);
	put8(a, d->tflags);
	put_le(a, 0, d->width);			/* _GRA */
	put_le(a, min, d->width);		/* _MIN */
	put_le(a, min + len - 1, d->width);	/* _MAX */
	put_le(a, 0, d->width);			/* _TRA */
	put_le(a, len, d->width);		/* _LEN */
}

void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max)
{
	static const struct addr_desc word_bus = { 0x88, 2, RES_BUS, 0 };

	if (min > max) {
		fail(a, -EINVAL);
		return;
	}
	res_addr(a, &word_bus, min, (uint64_t)max - min + 1);
}

void aml_res_io_window(struct aml *a, uint16_t min, uint16_t max)
{
	/* _RNG = 3: ISA and non-ISA ranges (§6.4.3.5.5) */
	static const struct addr_desc word_io = { 0x88, 2, RES_IO, 0x03 };

	if (min > max) {
		fail(a, -EINVAL);
		return;
	}
	res_addr(a, &word_io, min, (uint64_t)max - min + 1);
}

void aml_res_mem_window(struct aml *a, uint64_t base, uint64_t len, bool cacheable)
{
	/* _RW = 1 in bit 0, _MEM in bits 2:1: 0 non-cacheable, 1 cacheable */
	uint8_t tflags = (uint8_t)(0x01 | (cacheable ? 0x02 : 0));
	struct addr_desc d = { 0x87, 4, RES_MEM, tflags };

	if (!len || base + len - 1 < base) {
		fail(a, -EINVAL);
		return;
	}
	if (base + len - 1 > 0xffffffffull) {
		d.tag = 0x8a;
		d.width = 8;
	}
	res_addr(a, &d, base, len);
}
