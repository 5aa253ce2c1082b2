/*
 * sluice: a tiny AML byte emitter (ACPI 6.4 §20, "ACPI Machine Language
 * Specification"), enough for a static DSDT: names, integers, strings,
 * buffers, packages, scopes, devices, resource templates, and methods made of
 * If/Else, a few operators, arguments and locals.
 *
 * Emitters write into a caller's buffer and never past its end. They do not
 * return errors one by one: the first failure is kept in the struct aml,
 * everything after it is a no-op, and aml_error() reports it at the end.
 *
 * Objects with a PkgLength (§20.2.4) are opened with *_begin(), which
 * returns a mark, and closed with the matching *_end(mark), innermost first.
 */
#ifndef SLUICE_AML_H
#define SLUICE_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;	/* bytes emitted */
	int err;	/* first error: -ENOSPC, -EINVAL or -E2BIG; 0 if none */
};

#define AML_PKGLEN_MAX	0x0fffffffu	/* 4-byte PkgLength, §20.2.4 */

void aml_init(struct aml *a, void *buf, size_t cap);
static inline int aml_error(const struct aml *a) { return a->err; }

/*
 * PkgLength (§20.2.4). Encode @value (which counts the encoding's own bytes)
 * into @out: returns 1-4, or 0 if @value > AML_PKGLEN_MAX. Decode from @p
 * (@avail bytes): returns the number of bytes used, or 0 if truncated.
 */
size_t aml_pkglen_encode(uint8_t out[4], uint32_t value);
size_t aml_pkglen_decode(const uint8_t *p, size_t avail, uint32_t *value);

/* Raw bytes, e.g. a resource descriptor built elsewhere. */
void aml_bytes(struct aml *a, const void *p, size_t n);

/*
 * NameString (§20.2.2): "\\_SB.PCI0", "^FOO", "_S5", or "\\" for the root.
 * Segments shorter than four characters are padded with '_'.
 */
void aml_namestring(struct aml *a, const char *path);

/* Data objects (§20.2.3). aml_int picks the shortest encoding. */
void aml_int(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id);	/* "PNP0A03" as a DWord */

/* Name(path, <object>): emit the object right after. §20.2.5.1 */
void aml_name(struct aml *a, const char *path);
/* Return(<object>): emit the object right after. §20.2.5.3 */
void aml_return(struct aml *a);

/* Buffer (n) { bytes }: §20.2.5.4 */
void aml_buffer(struct aml *a, const void *bytes, size_t n);
/*
 * ToUUID ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"), hex digits in either case:
 * a 16-byte Buffer whose first three fields are little-endian and the rest in
 * string order (§19.6.142).
 */
void aml_uuid(struct aml *a, const char *uuid);

/* Arg0-Arg6 and Local0-Local7, as operands or targets (§20.2.6.1, §20.2.6.2) */
void aml_arg(struct aml *a, unsigned n);
void aml_local(struct aml *a, unsigned n);

/*
 * Operators (§20.2.5.4): emit the operands right after, in ASL order, so
 * Or (CDW1, 8, CDW1) is aml_op(AML_OP_OR), aml_namestring("CDW1"),
 * aml_int(8), aml_namestring("CDW1"). A target is a name, ArgN or LocalN.
 * LNotEqual (a, b) is AML_OP_LNOT followed by AML_OP_LEQUAL, a, b.
 */
enum aml_op {
	AML_OP_STORE			= 0x70,	/* Store (source, target) */
	AML_OP_AND			= 0x7b,	/* And (a, b, target) */
	AML_OP_OR			= 0x7d,	/* Or (a, b, target) */
	AML_OP_CREATE_DWORD_FIELD	= 0x8a,	/* (buffer, byte index, name) */
	AML_OP_LNOT			= 0x92,	/* LNot (a) */
	AML_OP_LEQUAL			= 0x93,	/* LEqual (a, b) */
	AML_OP_LLESS			= 0x95,	/* LLess (a, b) */
};
void aml_op(struct aml *a, enum aml_op op);

size_t aml_scope_begin(struct aml *a, const char *path);	/* §20.2.5.1 */
size_t aml_device_begin(struct aml *a, const char *path);	/* §20.2.5.2 */
/*
 * Method (path, nargs, NotSerialized or Serialized): §20.2.5.2. A method that
 * creates named objects (CreateDWordField) is Serialized, so that two
 * evaluations never meet each other's names (§19.6.85).
 */
size_t aml_method_begin(struct aml *a, const char *path, unsigned nargs, bool serialized);
size_t aml_package_begin(struct aml *a, unsigned nelems);	/* §20.2.5.4 */
/*
 * If (predicate) { body }: emit the predicate right after begin, then the
 * body. An Else { body } comes right after the If's end. §20.2.5.3
 */
size_t aml_if_begin(struct aml *a);
size_t aml_else_begin(struct aml *a);
void aml_end(struct aml *a, size_t mark);	/* closes any of the *_begin() above */

/*
 * ResourceTemplate() = Buffer { descriptors, EndTag (§6.4.2.9) }, §6.4.
 * The descriptors below go between begin and end.
 */
size_t aml_restemplate_begin(struct aml *a);
void aml_restemplate_end(struct aml *a, size_t mark);

/* IO(Decode16, base, base, 1, len): §6.4.2.5 */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
/* IRQNoFlags() {irq}: edge, active high, ISA IRQ 0-15. §6.4.2.1 */
void aml_res_irq(struct aml *a, unsigned irq);
/* Memory32Fixed(ReadWrite, base, len): §6.4.3.4 */
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len);

/*
 * Windows a PCI host bridge produces (§6.4.3.5): fixed base and length,
 * positive decode. The memory window is a DWord descriptor when it ends
 * below 4 GiB and a QWord one otherwise.
 */
void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max);
void aml_res_io_window(struct aml *a, uint16_t min, uint16_t max);
void aml_res_mem_window(struct aml *a, uint64_t base, uint64_t len, bool cacheable);

#endif
