/* cmocka: the address-space registry (vmm/bus.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/bus.h"

/* What the last call to record() saw. */
struct rec {
	int id;
	int calls;
	uint64_t offset;
	uint32_t len;
	bool is_write;
	uint8_t data[8];
};

static void record(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct rec *r = opaque;

	r->calls++;
	r->offset = offset;
	r->len = len;
	r->is_write = is_write;
	if (is_write) {
		memcpy(r->data, data, len);
	} else {
		memset(data, r->id, len);
	}
}

/* A fresh bus per test. */
static int setup(void **state)
{
	struct bus *b = test_malloc(sizeof(*b));

	if (bus_init(b, "test")) {
		test_free(b);
		return -1;
	}
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	bus_exit(*state);
	test_free(*state);
	return 0;
}

static int read_at(struct bus *b, uint64_t addr, uint32_t len, uint8_t *out)
{
	return bus_access(b, addr, out, len, false);
}

static void overlap_refused(void **state)
{
	struct bus *b = *state;
	struct rec r = { .id = 1 };

	assert_int_equal(bus_register(b, 0x1000, 0x100, record, &r, "a"), 0);
	assert_int_equal(bus_register(b, 0xf80, 0x81, record, &r, "low"), -EEXIST);
	assert_int_equal(bus_register(b, 0x10ff, 0x10, record, &r, "high"), -EEXIST);
	assert_int_equal(bus_register(b, 0x1010, 0x10, record, &r, "inside"), -EEXIST);
	assert_int_equal(bus_register(b, 0x800, 0x1000, record, &r, "around"), -EEXIST);
	assert_int_equal(bus_register(b, 0x1000, 0x100, record, &r, "same"), -EEXIST);
	assert_int_equal(b->nr, 1);
}

static void empty_and_wrapping_refused(void **state)
{
	struct bus *b = *state;
	struct rec r = { .id = 1 };

	assert_int_equal(bus_register(b, 0x1000, 0, record, &r, "empty"), -EINVAL);
	assert_int_equal(bus_register(b, UINT64_MAX - 0xf, 0x11, record, &r, "wrap"), -EINVAL);
	assert_int_equal(bus_register(b, 0x1000, 0x10, NULL, &r, "nofn"), -EINVAL);
	/* Ending exactly at the top of the space is not wrapping. */
	assert_int_equal(bus_register(b, UINT64_MAX - 0xf, 0x10, record, &r, "top"), 0);
	assert_int_equal(bus_access(b, UINT64_MAX, r.data, 1, false), 0);
	assert_int_equal(bus_access(b, UINT64_MAX, r.data, 2, false), -ENOENT);
}

static void adjacent_accepted(void **state)
{
	struct bus *b = *state;
	struct rec lo = { .id = 1 }, mid = { .id = 2 }, hi = { .id = 3 };
	uint8_t v;

	assert_int_equal(bus_register(b, 0x1000, 0x100, record, &mid, "mid"), 0);
	assert_int_equal(bus_register(b, 0x1100, 0x100, record, &hi, "hi"), 0);
	assert_int_equal(bus_register(b, 0xf00, 0x100, record, &lo, "lo"), 0);
	assert_int_equal(read_at(b, 0xfff, 1, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(read_at(b, 0x1000, 1, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(read_at(b, 0x10ff, 1, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(read_at(b, 0x1100, 1, &v), 0);
	assert_int_equal(v, 3);
}

static void lookup_edges(void **state)
{
	struct bus *b = *state;
	struct rec r = { .id = 7 };
	uint8_t v[4];

	assert_int_equal(bus_register(b, 0x3f8, 8, record, &r, "com1"), 0);
	assert_int_equal(read_at(b, 0x3f8, 1, v), 0);
	assert_int_equal(r.offset, 0);
	assert_int_equal(read_at(b, 0x3ff, 1, v), 0);
	assert_int_equal(r.offset, 7);
	assert_int_equal(r.calls, 2);
	assert_int_equal(read_at(b, 0x400, 1, v), -ENOENT);
	assert_int_equal(v[0], 0xff);
	assert_int_equal(read_at(b, 0x3f7, 1, v), -ENOENT);
	assert_int_equal(r.calls, 2);
}

static void straddling_access_refused(void **state)
{
	struct bus *b = *state;
	struct rec r = { .id = 7 };
	uint8_t v[4] = { 1, 2, 3, 4 };

	assert_int_equal(bus_register(b, 0x3f8, 8, record, &r, "com1"), 0);
	assert_int_equal(bus_access(b, 0x3fe, v, 4, true), -ENOENT);
	assert_int_equal(read_at(b, 0x3fd, 4, v), -ENOENT);
	assert_memory_equal(v, "\xff\xff\xff\xff", 4);
	assert_int_equal(read_at(b, 0x3f6, 4, v), -ENOENT);
	assert_int_equal(read_at(b, 0x3fc, 4, v), 0);
	assert_int_equal(r.calls, 1);
}

static void unregister_then_register(void **state)
{
	struct bus *b = *state;
	struct rec one = { .id = 1 }, two = { .id = 2 };
	uint8_t v;

	assert_int_equal(bus_register(b, 0x2000, 0x10, record, &one, "one"), 0);
	assert_int_equal(bus_unregister(b, 0x2001), -ENOENT);
	assert_int_equal(bus_unregister(b, 0x2000), 0);
	assert_int_equal(bus_unregister(b, 0x2000), -ENOENT);
	assert_int_equal(read_at(b, 0x2000, 1, &v), -ENOENT);
	assert_int_equal(bus_register(b, 0x2000, 0x10, record, &two, "two"), 0);
	assert_int_equal(read_at(b, 0x2000, 1, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(one.calls, 0);
}

static void offsets_relative_to_base(void **state)
{
	struct bus *b = *state;
	struct rec r = { .id = 9 };
	uint8_t w[8] = { 0xde, 0xad, 0xbe, 0xef };

	assert_int_equal(bus_register(b, 0xfebf0000, 0x1000, record, &r, "bar"), 0);
	assert_int_equal(bus_access(b, 0xfebf0124, w, 4, true), 0);
	assert_int_equal(r.offset, 0x124);
	assert_int_equal(r.len, 4);
	assert_true(r.is_write);
	assert_memory_equal(r.data, w, 4);
	assert_int_equal(bus_access(b, 0xfebf0ffc, w, 8, false), -ENOENT);
	assert_int_equal(bus_access(b, 0xfebf0ff8, r.data, 8, false), 0);
	assert_int_equal(r.offset, 0xff8);
	assert_int_equal(r.len, 8);
	assert_false(r.is_write);
}

#define MANY 64

static void many_out_of_order(void **state)
{
	struct bus *b = *state;
	struct rec r[MANY];
	unsigned i, k;
	uint8_t v;

	for (i = 0; i < MANY; i++)
		r[i] = (struct rec){ .id = (int)i + 1 };
	/* 37 is coprime with 64: a fixed shuffle that visits every slot once. */
	for (k = 0; k < MANY; k++) {
		i = (k * 37) % MANY;
		assert_int_equal(bus_register(b, 0x10000 + i * 0x100, 0x100, record, &r[i], "r"), 0);
	}
	assert_int_equal(b->nr, MANY);
	for (i = 1; i < MANY; i++)
		assert_true(b->ranges[i - 1].base < b->ranges[i].base);
	for (i = 0; i < MANY; i++) {
		assert_int_equal(read_at(b, 0x10000 + i * 0x100, 1, &v), 0);
		assert_int_equal(v, i + 1);
		assert_int_equal(read_at(b, 0x10000 + i * 0x100 + 0xff, 1, &v), 0);
		assert_int_equal(v, i + 1);
		assert_int_equal(r[i].offset, 0xff);
	}
	assert_int_equal(read_at(b, 0x10000 + MANY * 0x100, 1, &v), -ENOENT);
	assert_int_equal(read_at(b, 0xffff, 1, &v), -ENOENT);
}

/* A callback that moves itself: unregisters its range and registers a new one. */
struct mover {
	struct bus *b;
	uint64_t base, next;
	int calls;
	int reg_err, unreg_err;
};

static void move_self(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct mover *m = opaque;

	(void)offset, (void)data, (void)len, (void)is_write;
	m->calls++;
	m->reg_err = bus_register(m->b, m->next, 0x10, move_self, m, "moved");
	m->unreg_err = bus_unregister(m->b, m->base);
	m->base = m->next;
	m->next += 0x100;
}

static void callback_may_register(void **state)
{
	struct bus *b = *state;
	struct mover m = { .b = b, .base = 0x5000, .next = 0x6000 };
	uint8_t v = 0;

	alarm(10);	/* a deadlock fails the test instead of hanging it */
	assert_int_equal(bus_register(b, 0x5000, 0x10, move_self, &m, "mover"), 0);
	assert_int_equal(bus_access(b, 0x5000, &v, 1, true), 0);
	assert_int_equal(m.reg_err, 0);
	assert_int_equal(m.unreg_err, 0);
	assert_int_equal(bus_access(b, 0x5000, &v, 1, true), -ENOENT);
	assert_int_equal(bus_access(b, 0x6000, &v, 1, true), 0);
	assert_int_equal(m.calls, 2);
	assert_int_equal(b->nr, 1);
	assert_int_equal(b->ranges[0].base, 0x6100);
	alarm(0);
}

/* Per-device exit counts for --stats: hits per range, misses apart, idle ranges not shown. */
static void hits_counted_per_range(void **state)
{
	struct bus *b = *state;
	struct rec r = { .id = 1 };
	uint8_t v[2] = { 0 };
	char buf[128] = "";
	FILE *f;

	assert_int_equal(bus_register(b, 0x3f8, 8, record, &r, "com1"), 0);
	assert_int_equal(bus_register(b, 0x80, 1, record, &r, "post"), 0);
	assert_int_equal(bus_register(b, 0x64, 1, record, &r, "i8042"), 0);
	assert_int_equal(bus_access(b, 0x3f8, v, 1, true), 0);
	assert_int_equal(bus_access(b, 0x3fd, v, 1, false), 0);
	assert_int_equal(bus_access(b, 0x80, v, 1, true), 0);
	assert_int_equal(bus_access(b, 0x81, v, 1, true), -ENOENT);
	assert_int_equal(bus_access(b, 0x3ff, v, 2, false), -ENOENT);	/* straddles the end */
	f = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(f);
	bus_print_hits(b, f);
	fclose(f);
	assert_string_equal(buf, " post=1 com1=2 unclaimed=2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(overlap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_and_wrapping_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(adjacent_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(lookup_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(straddling_access_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(unregister_then_register, setup, teardown),
		cmocka_unit_test_setup_teardown(offsets_relative_to_base, setup, teardown),
		cmocka_unit_test_setup_teardown(many_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(callback_may_register, setup, teardown),
		cmocka_unit_test_setup_teardown(hits_counted_per_range, setup, teardown),
	};
	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
