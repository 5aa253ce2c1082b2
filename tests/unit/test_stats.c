/* cmocka: parsing KVM's binary statistics from a hand-built file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "vmm/stats.h"

#define NAME_SIZE 48

struct file {
	struct kvm_stats_header h;
	char id[NAME_SIZE];
	struct { struct kvm_stats_desc d; char name[NAME_SIZE]; } desc[3];
	uint64_t data[5];
};

static void build(struct file *f)
{
	memset(f, 0, sizeof(*f));
	f->h.name_size = NAME_SIZE;
	f->h.num_desc = 3;
	f->h.id_offset = offsetof(struct file, id);
	f->h.desc_offset = offsetof(struct file, desc);
	f->h.data_offset = offsetof(struct file, data);
	strcpy(f->desc[0].name, "exits");
	f->desc[0].d.flags = KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE;
	f->desc[0].d.size = 1;
	f->desc[0].d.offset = 0;
	strcpy(f->desc[1].name, "halt_wait_hist");
	f->desc[1].d.flags = KVM_STATS_TYPE_LOG_HIST;
	f->desc[1].d.size = 2;
	f->desc[1].d.offset = 8;
	strcpy(f->desc[2].name, "io_exits");
	f->desc[2].d.flags = KVM_STATS_TYPE_CUMULATIVE;
	f->desc[2].d.size = 1;
	f->desc[2].d.offset = 24;
	f->data[0] = 1234;
	f->data[1] = 7;
	f->data[2] = 8;
	f->data[3] = 56;
}

static void finds_counters(void **state)
{
	struct file f;
	uint64_t v = 0;

	(void)state;
	build(&f);
	assert_int_equal(kvm_stats_find(&f, sizeof(f), "exits", &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(kvm_stats_find(&f, sizeof(f), "io_exits", &v), 0);
	assert_int_equal(v, 1234 + 56);	/* adds: sums over vCPUs */
}

static void skips_histograms_and_unknown(void **state)
{
	struct file f;
	uint64_t v = 0;

	(void)state;
	build(&f);
	assert_int_equal(kvm_stats_find(&f, sizeof(f), "halt_wait_hist", &v), -ENOENT);
	assert_int_equal(kvm_stats_find(&f, sizeof(f), "nope", &v), -ENOENT);
	assert_int_equal(v, 0);
}

static void malformed_refused(void **state)
{
	struct file f;
	uint64_t v = 0;

	(void)state;
	build(&f);
	assert_int_equal(kvm_stats_find(&f, 8, "exits", &v), -EINVAL);
	f.h.num_desc = 1000;
	assert_int_equal(kvm_stats_find(&f, sizeof(f), "exits", &v), -EINVAL);
	build(&f);
	f.desc[0].d.offset = 4096;	/* data past the end */
	assert_int_equal(kvm_stats_find(&f, sizeof(f), "exits", &v), -EINVAL);
	build(&f);
	memset(f.desc[0].name, 'x', NAME_SIZE);	/* no terminator: never matches */
	assert_int_equal(kvm_stats_find(&f, sizeof(f), "exits", &v), -ENOENT);
	assert_int_equal(v, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_counters),
		cmocka_unit_test(skips_histograms_and_unknown),
		cmocka_unit_test(malformed_refused),
	};
	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
