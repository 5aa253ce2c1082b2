/* cmocka: virtio-blk requests (virtio 1.2 §5.2) on a temporary image file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/virtio/virtio_blk.h"

#define RAM_SIZE	(1u << 20)
#define SECTORS		64
#define IMG_SIZE	(SECTORS * 512)
#define HDR		0x0000		/* request header */
#define DATA		0x1000
#define STATUS		0x9000
#define CANARY		0x77

struct fx {
	char path[64];
	struct virtio_blk blk;
	uint8_t *ram;
	struct guest_mem mem;
	struct iovec iov[16];
	struct virtq_chain c;
};

/* ---- the image ---- */

static void make_image(struct fx *f, size_t size)
{
	uint8_t buf[512];
	size_t off;
	int fd;

	strcpy(f->path, "/tmp/sluice-test-blk-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	for (off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		memset(buf, (int)(off / 512) + 1, sizeof(buf));	/* sector k holds k + 1 */
		assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	}
	close(fd);
}

static void read_image(struct fx *f, void *buf, size_t len, off_t off)
{
	FILE *img = fopen(f->path, "rb");

	assert_non_null(img);
	assert_int_equal(fseeko(img, off, SEEK_SET), 0);
	assert_int_equal(fread(buf, 1, len, img), len);
	fclose(img);
}

static int setup_img(void **state, bool ro)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	guest_mem_layout(&f->mem, f->ram, RAM_SIZE);
	make_image(f, IMG_SIZE);
	assert_int_equal(virtio_blk_open(&f->blk, f->path, ro, NULL), 0);
	*state = f;
	return 0;
}

static int setup_rw(void **state)
{
	return setup_img(state, false);
}

static int setup_ro(void **state)
{
	return setup_img(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_blk_close(&f->blk);
	unlink(f->path);
	free(f->ram);
	free(f);
	return 0;
}

/* ---- chains by hand: iovecs into guest RAM, readable ones first ---- */

static void chain_start(struct fx *f)
{
	f->c = (struct virtq_chain){ .iov = f->iov, .iov_max = 16 };
	f->ram[STATUS] = CANARY;
}

static void seg(struct fx *f, uint64_t gpa, uint32_t len, bool writable)
{
	f->iov[f->c.nr_out + f->c.nr_in] = (struct iovec){ f->ram + gpa, len };
	if (writable) {
		f->c.nr_in++;
		f->c.in_len += len;
	} else {
		f->c.nr_out++;
		f->c.out_len += len;
	}
}

static void put_hdr(struct fx *f, uint64_t gpa, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = htole32(type), .sector = htole64(sector) };

	memcpy(f->ram + gpa, &h, sizeof(h));
}

/* header | data (readable for OUT, writable otherwise) | status */
static void simple_req(struct fx *f, uint32_t type, uint64_t sector, uint32_t data_len)
{
	chain_start(f);
	put_hdr(f, HDR, type, sector);
	seg(f, HDR, 16, false);
	if (data_len)
		seg(f, DATA, data_len, type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID);
	seg(f, STATUS, 1, true);
}

/* Asserting wrapper: the returned status is the byte in guest RAM. */
static void process_expect(struct fx *f, int status, uint32_t used_len)
{
	uint32_t used;

	assert_int_equal(virtio_blk_process(&f->blk, &f->c, &used), status);
	assert_int_equal(f->ram[STATUS], status);
	assert_int_equal(used, used_len);
}

/* ---- requests ---- */

static void write_read_round_trip(void **state)
{
	struct fx *f = *state;
	uint8_t back[1024];

	memset(f->ram + DATA, 0xa5, 1024);
	simple_req(f, VIRTIO_BLK_T_OUT, 3, 1024);
	process_expect(f, VIRTIO_BLK_S_OK, 1);
	read_image(f, back, sizeof(back), 3 * 512);
	assert_memory_equal(back, f->ram + DATA, 1024);
	read_image(f, back, 512, 5 * 512);
	assert_int_equal(back[0], 6);	/* sector 5 untouched */

	memset(f->ram + DATA, 0, 2048);
	simple_req(f, VIRTIO_BLK_T_IN, 2, 1536);
	process_expect(f, VIRTIO_BLK_S_OK, 1537);
	assert_int_equal(f->ram[DATA], 3);
	assert_int_equal(f->ram[DATA + 511], 3);
	assert_int_equal(f->ram[DATA + 512], 0xa5);
	assert_int_equal(f->ram[DATA + 1535], 0xa5);
	assert_int_equal(f->ram[DATA + 1536], 0);
}

/* Data and status in one writable buffer; data over two buffers. */
static void status_in_last_data_buffer(void **state)
{
	struct fx *f = *state;

	chain_start(f);
	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 7);
	seg(f, HDR, 16, false);
	seg(f, DATA, 300, true);
	seg(f, DATA + 0x1000, 213, true);	/* 212 data bytes + status */
	f->ram[DATA + 0x1000 + 212] = CANARY;
	assert_int_equal(virtio_blk_process(&f->blk, &f->c, &(uint32_t){ 0 }), VIRTIO_BLK_S_OK);
	assert_int_equal(f->ram[DATA], 8);
	assert_int_equal(f->ram[DATA + 299], 8);
	assert_int_equal(f->ram[DATA + 0x1000 + 211], 8);
	assert_int_equal(f->ram[DATA + 0x1000 + 212], VIRTIO_BLK_S_OK);
}

static void header_split_across_descriptors(void **state)
{
	struct fx *f = *state;
	uint8_t hdr[16];
	struct virtio_blk_outhdr h = { .type = htole32(VIRTIO_BLK_T_IN), .sector = htole64(9) };

	memcpy(hdr, &h, sizeof(h));
	chain_start(f);
	memcpy(f->ram + HDR, hdr, 5);
	memcpy(f->ram + HDR + 0x100, hdr + 5, 11);
	seg(f, HDR, 5, false);
	seg(f, HDR + 0x100, 11, false);
	seg(f, DATA, 512, true);
	seg(f, STATUS, 1, true);
	process_expect(f, VIRTIO_BLK_S_OK, 513);
	assert_int_equal(f->ram[DATA], 10);
}

static void flush(void **state)
{
	struct fx *f = *state;

	simple_req(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	process_expect(f, VIRTIO_BLK_S_OK, 1);
}

static void get_id(void **state)
{
	struct fx *f = *state;

	assert_int_equal(virtio_blk_set_id(&f->blk, "disk0"), 0);
	assert_non_null(strstr(f->blk.name, "disk0 (/tmp/sluice-test-blk-"));
	memset(f->ram + DATA, 0xff, 20);
	simple_req(f, VIRTIO_BLK_T_GET_ID, 0, 20);
	process_expect(f, VIRTIO_BLK_S_OK, 21);
	assert_memory_equal(f->ram + DATA, "disk0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	/* 20 bytes exactly: no NUL terminator (§5.2.6). */
	assert_int_equal(virtio_blk_set_id(&f->blk, "0123456789abcdefghijKL"), 0);
	simple_req(f, VIRTIO_BLK_T_GET_ID, 0, 20);
	process_expect(f, VIRTIO_BLK_S_OK, 21);
	assert_memory_equal(f->ram + DATA, "0123456789abcdefghij", 20);
}

static void unsupported_type(void **state)
{
	struct fx *f = *state;

	simple_req(f, VIRTIO_BLK_T_DISCARD, 0, 16);
	process_expect(f, VIRTIO_BLK_S_UNSUPP, 1);
}

static void beyond_capacity(void **state)
{
	struct fx *f = *state;
	uint8_t before[IMG_SIZE], after[IMG_SIZE];
	struct stat st;

	read_image(f, before, IMG_SIZE, 0);
	simple_req(f, VIRTIO_BLK_T_IN, SECTORS, 512);
	process_expect(f, VIRTIO_BLK_S_IOERR, 1);
	simple_req(f, VIRTIO_BLK_T_IN, SECTORS - 1, 1024);
	process_expect(f, VIRTIO_BLK_S_IOERR, 1);
	simple_req(f, VIRTIO_BLK_T_OUT, SECTORS - 1, 1024);
	process_expect(f, VIRTIO_BLK_S_IOERR, 1);
	simple_req(f, VIRTIO_BLK_T_OUT, UINT64_MAX, 512);
	process_expect(f, VIRTIO_BLK_S_IOERR, 1);
	simple_req(f, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512);	/* sector * 512 wraps */
	process_expect(f, VIRTIO_BLK_S_IOERR, 1);
	/* Not whole sectors (§5.2.6.1). */
	simple_req(f, VIRTIO_BLK_T_IN, 0, 100);
	process_expect(f, VIRTIO_BLK_S_IOERR, 1);
	/* The last sector itself is fine. */
	simple_req(f, VIRTIO_BLK_T_IN, SECTORS - 1, 512);
	process_expect(f, VIRTIO_BLK_S_OK, 513);
	read_image(f, after, IMG_SIZE, 0);
	assert_memory_equal(before, after, IMG_SIZE);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, IMG_SIZE);
}

static void missing_status_refused(void **state)
{
	struct fx *f = *state;
	uint32_t used = 99;

	/* Header only, nothing writable. */
	chain_start(f);
	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 0);
	seg(f, HDR, 16, false);
	assert_int_equal(virtio_blk_process(&f->blk, &f->c, &used), -EINVAL);
	assert_int_equal(used, 0);
	/* A writable buffer of length 0 is no room either. */
	seg(f, STATUS, 0, true);
	assert_int_equal(virtio_blk_process(&f->blk, &f->c, &used), -EINVAL);
	assert_int_equal(f->ram[STATUS], CANARY);
}

static void short_header_refused(void **state)
{
	struct fx *f = *state;
	uint32_t used;

	chain_start(f);
	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 0);
	seg(f, HDR, 15, false);
	seg(f, DATA, 512, true);
	seg(f, STATUS, 1, true);
	memset(f->ram + DATA, CANARY, 512);
	assert_int_equal(virtio_blk_process(&f->blk, &f->c, &used), -EINVAL);
	assert_int_equal(f->ram[STATUS], CANARY);
	assert_int_equal(f->ram[DATA], CANARY);
}

static void read_only_refuses_out(void **state)
{
	struct fx *f = *state;
	uint8_t before[IMG_SIZE], after[IMG_SIZE];

	assert_true(f->blk.ro);
	assert_true(f->blk.features & (1ull << VIRTIO_BLK_F_RO));
	read_image(f, before, IMG_SIZE, 0);
	memset(f->ram + DATA, 0xee, 512);
	simple_req(f, VIRTIO_BLK_T_OUT, 0, 512);
	process_expect(f, VIRTIO_BLK_S_IOERR, 1);
	assert_false(f->blk.io_err_logged);	/* refused, not attempted (§5.2.6.2) */
	read_image(f, after, IMG_SIZE, 0);
	assert_memory_equal(before, after, IMG_SIZE);
	/* Reads and flushes still work. */
	simple_req(f, VIRTIO_BLK_T_IN, 0, 512);
	process_expect(f, VIRTIO_BLK_S_OK, 513);
	assert_int_equal(f->ram[DATA], 1);
	simple_req(f, VIRTIO_BLK_T_FLUSH, 0, 0);
	process_expect(f, VIRTIO_BLK_S_OK, 1);
}

static void config_and_features(void **state)
{
	struct fx *f = *state;
	uint8_t cfg[24], tail[4];
	uint64_t cap;
	uint32_t seg_max, blk_size;

	virtio_blk_config_read(&f->blk, 0, cfg, sizeof(cfg));
	memcpy(&cap, cfg, 8);
	memcpy(&seg_max, cfg + 12, 4);
	memcpy(&blk_size, cfg + 20, 4);
	assert_int_equal(le64toh(cap), SECTORS);
	assert_int_equal(le32toh(seg_max), VIRTIO_BLK_SEG_MAX);
	assert_int_equal(le32toh(blk_size), 512);
	virtio_blk_config_read(&f->blk, 0xfffffffe, tail, sizeof(tail));
	assert_memory_equal(tail, "\0\0\0\0", 4);
	assert_int_equal(f->blk.features,
			 (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
			 (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_F_VERSION_1));
	assert_false(f->blk.ro);
}

/* ---- end to end through a ring ---- */

static void put_desc(struct fx *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(f->ram + 0x10000 + 16 * i, &d, sizeof(d));
}

static void offer(struct fx *f, uint16_t head)
{
	uint16_t idx;

	memcpy(&idx, f->ram + 0x11002, 2);
	memcpy(f->ram + 0x11004 + 2 * (le16toh(idx) % 8), &(uint16_t){ htole16(head) }, 2);
	idx = htole16((uint16_t)(le16toh(idx) + 1));
	memcpy(f->ram + 0x11002, &idx, 2);
}

static void serve_through_ring(void **state)
{
	struct fx *f = *state;
	struct virtq_addr a = { .size = 8, .desc = 0x10000, .avail = 0x11000, .used = 0x12000 };
	struct virtq vq;
	uint32_t elem[2];
	bool notify;

	virtq_init(&vq, "requestq");
	assert_int_equal(virtq_enable(&vq, &f->mem, &a, VIRTQ_FEATURES), 0);
	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 4);
	put_desc(f, 2, HDR, 16, VRING_DESC_F_NEXT, 4);
	put_desc(f, 4, DATA, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 6);
	put_desc(f, 6, STATUS, 1, VRING_DESC_F_WRITE, 0);
	offer(f, 2);
	assert_int_equal(virtio_blk_serve(&f->blk, &vq, &notify), 1);
	assert_true(notify);		/* used_event 0 */
	memcpy(elem, f->ram + 0x12004, sizeof(elem));
	assert_int_equal(le32toh(elem[0]), 2);
	assert_int_equal(le32toh(elem[1]), 513);
	assert_int_equal(f->ram[DATA], 5);
	assert_int_equal(f->ram[STATUS], VIRTIO_BLK_S_OK);

	/* No status byte: the queue stops, nothing is pushed. */
	put_desc(f, 2, HDR, 16, 0, 0);
	offer(f, 2);
	assert_int_equal(virtio_blk_serve(&f->blk, &vq, &notify), -EIO);
	assert_false(notify);
	assert_true(vq.broken);
	assert_int_equal(f->ram[0x12002], 1);
}

/*
 * Issue 13 item 6: a driver that keeps the ring full must not keep the
 * worker (and a vCPU waiting to park it for a reset) for ever. 256 flushes
 * offered at once: one call serves a bounded batch and says so, the next
 * ones the rest.
 */
static void serve_is_budgeted(void **state)
{
	struct fx *f = *state;
	struct virtq_addr a = { .size = 256, .desc = 0x10000, .avail = 0x11000, .used = 0x12000 };
	struct virtq vq;
	unsigned i, total = 0, calls = 0;
	uint16_t idx = 0;
	bool notify;
	int r;

	virtq_init(&vq, "requestq");
	assert_int_equal(virtq_enable(&vq, &f->mem, &a, VIRTQ_FEATURES), 0);
	put_hdr(f, HDR, VIRTIO_BLK_T_FLUSH, 0);
	put_desc(f, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	put_desc(f, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	for (i = 0; i < 256; i++)
		memcpy(f->ram + 0x11004 + 2 * i, &(uint16_t){ 0 }, 2);
	idx = htole16(256);
	memcpy(f->ram + 0x11002, &idx, 2);
	do {
		r = virtio_blk_serve(&f->blk, &vq, &notify);
		assert_true(r >= 0);
		assert_true(r <= VIRTIO_BLK_BUDGET);
		total += (unsigned)r;
		calls++;
	} while (r == VIRTIO_BLK_BUDGET && calls < 100);
	assert_int_equal(total, 256);
	assert_true(calls > 1);
}

/* ---- opening ---- */

/* Raw open with stderr captured into @msg. */
static int __open_msg(struct virtio_blk *blk, const char *path, bool ro, char *msg, size_t size)
{
	FILE *tmp = tmpfile();
	int saved, r;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	r = virtio_blk_open(blk, path, ro, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(msg, 1, size - 1, tmp);
	msg[n] = '\0';
	fclose(tmp);
	return r;
}

static void open_refuses_odd_size(void **state)
{
	struct fx f = { 0 };
	struct virtio_blk blk;
	char msg[512];

	(void)state;
	make_image(&f, IMG_SIZE + 100);
	assert_int_equal(__open_msg(&blk, f.path, false, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, f.path));
	assert_non_null(strstr(msg, "not a multiple of 512"));
	assert_int_equal(__open_msg(&blk, f.path, true, msg, sizeof(msg)), -EINVAL);
	unlink(f.path);
	assert_int_equal(__open_msg(&blk, f.path, true, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, f.path));
}

static void second_rw_open_refused_by_lock(void **state)
{
	struct fx *f = *state;
	struct virtio_blk other, third;
	char msg[512];

	assert_int_equal(__open_msg(&other, f->path, false, msg, sizeof(msg)), -EWOULDBLOCK);
	assert_non_null(strstr(msg, f->path));
	assert_non_null(strstr(msg, "in use"));
	assert_int_equal(__open_msg(&other, f->path, true, msg, sizeof(msg)), -EWOULDBLOCK);
	/* Released on close: now two readers share it, and keep a writer out. */
	virtio_blk_close(&f->blk);
	assert_int_equal(virtio_blk_open(&f->blk, f->path, true, NULL), 0);
	assert_int_equal(virtio_blk_open(&other, f->path, true, NULL), 0);
	assert_int_equal(__open_msg(&third, f->path, false, msg, sizeof(msg)), -EWOULDBLOCK);
	virtio_blk_close(&other);
}

/* Root ignores file modes, but not a sysfs attribute without a write method. */
static void unwritable_image_says_add_ro(void **state)
{
	struct fx *f = *state;
	const char *path = f->path;
	struct virtio_blk blk;
	char msg[512];

	if (geteuid() == 0)
		path = "/sys/devices/system/cpu/online";
	else
		assert_int_equal(chmod(f->path, 0444), 0);
	if (access(path, F_OK))
		skip();
	virtio_blk_close(&f->blk);
	assert_int_equal(__open_msg(&blk, path, false, msg, sizeof(msg)), -EACCES);
	assert_non_null(strstr(msg, path));
	assert_non_null(strstr(msg, "add ,ro"));
	assert_int_equal(virtio_blk_open(&f->blk, f->path, true, NULL), 0);
}

/* A directory is named as one, read-write (EISDIR from open) and read-only (fstat). */
static void open_refuses_directory(void **state)
{
	char dir[] = "/tmp/test_virtio_blk.XXXXXX", msg[512];
	struct virtio_blk blk;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(__open_msg(&blk, dir, false, msg, sizeof(msg)), -EISDIR);
	assert_non_null(strstr(msg, dir));
	assert_non_null(strstr(msg, "a directory, not a disk image"));
	msg[0] = '\0';
	assert_int_equal(__open_msg(&blk, dir, true, msg, sizeof(msg)), -EISDIR);
	assert_non_null(strstr(msg, "a directory, not a disk image"));
	assert_int_equal(rmdir(dir), 0);
}

#define RW(fn) cmocka_unit_test_setup_teardown(fn, setup_rw, teardown)
#define RO(fn) cmocka_unit_test_setup_teardown(fn, setup_ro, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RW(write_read_round_trip), RW(status_in_last_data_buffer),
		RW(header_split_across_descriptors), RW(flush), RW(get_id),
		RW(unsupported_type), RW(beyond_capacity), RW(missing_status_refused),
		RW(short_header_refused), RO(read_only_refuses_out), RW(config_and_features),
		RW(serve_through_ring), RW(serve_is_budgeted), cmocka_unit_test(open_refuses_odd_size),
		cmocka_unit_test(open_refuses_directory),
		RW(second_rw_open_refused_by_lock), RW(unwritable_image_says_add_ro),
	};
	return cmocka_run_group_tests_name("virtio_blk", tests, NULL, NULL);
}
