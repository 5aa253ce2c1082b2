/*
 * cmocka: MSI-X vectors as GSIs (vmm/msix_route.c) driven through the MSI-X
 * emulation (vmm/msix.c), with the KVM calls counted through the seam
 * (struct msix_route_kvm) on plain memory: eventfds and an epoll set are
 * real, no VM exists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/msix.h"
#include "vmm/msix_route.h"
#include "vmm/pci.h"
#include "vmm/vm.h"
#include "stderr_capture.h"

#define NR	64
#define BAR	2
#define ADDR	0xfee00000u
#define GOOD(v)	(0x4000u | (32 + (v)))	/* fixed, edge, APIC vector 32+ */

struct kvm_count {
	unsigned commits, assigns, deassigns;
	bool fail_commit;
};

static int count_commit(void *ctx)
{
	struct kvm_count *k = ctx;

	k->commits++;
	return k->fail_commit ? -EINVAL : 0;
}

static int count_assign(void *ctx, unsigned gsi, int efd)
{
	struct kvm_count *k = ctx;

	(void)gsi, (void)efd;
	k->assigns++;
	return 0;
}

static int count_deassign(void *ctx, unsigned gsi, int efd)
{
	struct kvm_count *k = ctx;

	(void)gsi, (void)efd;
	k->deassigns++;
	return 0;
}

static const struct msix_route_kvm counting = {
	.commit = count_commit, .irqfd_assign = count_assign, .irqfd_deassign = count_deassign,
};

struct retarget_log {
	unsigned calls;
	unsigned n;
	int fd;
	bool on;
};

struct fx {
	struct vm vm;
	struct pci_dev pci;
	struct msix msix;
	struct msix_route r;
	struct kvm_count k;
	unsigned pendings;
	struct retarget_log last_retarget;
};

static void pending(void *opaque, unsigned n)
{
	struct fx *f = opaque;

	(void)n;
	f->pendings++;
}

static const struct msix_route_ops ops = { .pending = pending };

static int setup(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));
	struct msix_layout l = { .nr_vectors = NR, .table_bar = BAR, .pba_bar = BAR,
				 .table_offset = 0, .pba_offset = 0x800 };

	f->vm.name = "vm0";
	f->vm.vm_fd = -1;
	f->vm.topo_cpus = 2;
	assert_int_equal(ev_init(&f->vm.ev), 0);
	assert_int_equal(route_table_init(&f->vm.routes, 0), 0);
	pci_dev_init(&f->pci, "tdev", NULL, 0x1af4, 0x1041, 0x020000);
	snprintf(f->pci.bdf, sizeof(f->pci.bdf), "0000:00:01.0");
	f->pci.bar[BAR].type = PCI_BAR_MEM32;
	f->pci.bar[BAR].size = 0x1000;
	assert_int_equal(msix_init(&f->msix, &f->pci, &l, &msix_route_msi_ops, &f->r), 0);
	assert_int_equal(msix_route_init(&f->r, &f->vm, f->pci.bdf, NR, &ops, f), 0);
	f->r.kvm = &counting;
	f->r.kvm_ctx = &f->k;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	msix_route_exit(&f->r);
	msix_exit(&f->msix);
	route_table_destroy(&f->vm.routes);
	ev_exit(&f->vm.ev);
	test_free(f);
	return 0;
}

static void table_write(struct fx *f, unsigned n, unsigned field, uint32_t v)
{
	uint8_t d[4];

	pci_put32(d, v);
	msix_table_access(&f->msix, (uint64_t)n * PCI_MSIX_ENTRY_SIZE + field, d, 4, true);
}

static void program(struct fx *f, unsigned n, uint32_t addr, uint32_t data)
{
	table_write(f, n, PCI_MSIX_ENTRY_LOWER_ADDR, addr);
	table_write(f, n, PCI_MSIX_ENTRY_UPPER_ADDR, 0);
	table_write(f, n, PCI_MSIX_ENTRY_DATA, data);
}

static void mask(struct fx *f, unsigned n, bool on)
{
	table_write(f, n, PCI_MSIX_ENTRY_VECTOR_CTRL, on ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

static void message_control(struct fx *f, uint16_t bits)
{
	uint16_t off = f->msix.cap + PCI_MSIX_FLAGS;

	pci_put16(&f->pci.cfg[off], (uint16_t)((NR - 1) | bits));
	msix_cfg_written(&f->msix, off, 2);
}

/* Linux's order: enable with Function Mask, program and unmask, then clear Function Mask. */
static void test_function_unmask_commits_once(void **state)
{
	struct fx *f = *state;
	unsigned n;

	message_control(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (n = 0; n < NR; n++) {
		program(f, n, ADDR, GOOD(n));
		mask(f, n, false);
	}
	assert_int_equal(f->k.commits, 0);
	message_control(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->k.commits, 1);
	assert_int_equal(f->k.assigns, NR);
	for (n = 0; n < NR; n++)
		assert_true(f->r.vec[n].routed);
}

/* A guest toggling a vector's mask bit: no routing commit, no irqfd churn. */
static void test_mask_toggle_costs_no_kvm_call(void **state)
{
	struct fx *f = *state;
	unsigned i;

	message_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 3, ADDR, GOOD(3));
	mask(f, 3, false);
	assert_int_equal(f->k.commits, 1);
	assert_int_equal(f->k.assigns, 1);
	for (i = 0; i < 1000; i++) {
		mask(f, 3, true);
		assert_false(f->r.vec[3].routed);
		mask(f, 3, false);
		assert_true(f->r.vec[3].routed);
	}
	assert_int_equal(f->k.commits, 1);
	assert_int_equal(f->k.assigns, 1);
	assert_int_equal(f->k.deassigns, 0);
}

/* Unmasked, the guest rewrites the message again and again: one commit per change at most. */
static void test_message_changes_commit_per_change(void **state)
{
	struct fx *f = *state;
	unsigned i;

	message_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 0, ADDR, GOOD(0));
	mask(f, 0, false);
	for (i = 0; i < 100; i++)
		table_write(f, 0, PCI_MSIX_ENTRY_DATA, GOOD(i % 2));
	/* The first unmask, then 99 real changes (GOOD(0) again is one). */
	assert_int_equal(f->k.commits, 1 + 99);
	/* Rewriting the same message commits nothing. */
	for (i = 0; i < 100; i++)
		table_write(f, 0, PCI_MSIX_ENTRY_DATA, GOOD(1));
	assert_int_equal(f->k.commits, 100);
}

/* Issue 13 item 1: two refused messages alternating in an unmasked entry. */
static void test_refused_flood_is_rate_limited(void **state)
{
	struct fx *f = *state;
	struct capture cap;
	unsigned lines, i;
	char *out;

	message_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 1, 0xfed00000u, GOOD(1));	/* outside the local APIC window */
	capture_begin(&cap);
	mask(f, 1, false);
	for (i = 0; i < 1000; i++)
		table_write(f, 1, PCI_MSIX_ENTRY_DATA, GOOD(i % 2));
	out = capture_end(&cap, &lines);
	assert_true(lines >= 2);
	assert_true(lines <= LOG_RL_BURST);
	assert_non_null(strstr(out, "0000:00:01.0"));
	assert_false(f->r.vec[1].routed);
	assert_int_equal(f->k.commits, 0);
	free(out);
}

/* A commit KVM refuses leaves the vectors it carried off, and says so. */
static void test_failed_commit_leaves_vector_off(void **state)
{
	struct fx *f = *state;
	struct capture cap;
	unsigned lines;
	char *out;

	f->k.fail_commit = true;
	message_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 2, ADDR, GOOD(2));
	capture_begin(&cap);
	mask(f, 2, false);
	out = capture_end(&cap, &lines);
	assert_int_equal(lines, 1);
	assert_non_null(strstr(out, "vector 2"));
	assert_false(f->r.vec[2].routed);
	assert_int_equal(f->k.assigns, 0);
	free(out);
}

/* A Pending bit set while masked is delivered on unmask, after the irqfd is there. */
static void test_pending_delivered_on_unmask(void **state)
{
	struct fx *f = *state;
	uint64_t cnt = 0;

	message_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 5, ADDR, GOOD(5));
	assert_int_equal(msix_signal(&f->msix, 5), 0);	/* masked: Pending */
	mask(f, 5, false);
	assert_true(f->r.vec[5].routed);
	assert_int_equal(read(f->r.vec[5].efd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(cnt, 1);
}

static void retarget(void *opaque, unsigned n, int fd, bool effective)
{
	struct fx *f = opaque;

	f->last_retarget = (struct retarget_log){ .calls = f->last_retarget.calls + 1, .n = n,
						  .fd = fd, .on = effective };
}

static const struct msix_route_ops vfio_like = { .pending = pending, .retarget = retarget };

/*
 * A source outside sluice (VFIO): masking moves the source to mask_efd and
 * keeps the irqfd; what arrives there becomes Pending through the main
 * loop and is delivered on unmask.
 */
static void test_retarget_on_mask(void **state)
{
	struct fx *f = *state;
	uint64_t one = 1, cnt = 0;

	msix_route_exit(&f->r);
	assert_int_equal(msix_route_init(&f->r, &f->vm, f->pci.bdf, NR, &vfio_like, f), 0);
	f->r.kvm = &counting;
	f->r.kvm_ctx = &f->k;
	f->last_retarget = (struct retarget_log){ 0 };
	message_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 4, ADDR, GOOD(4));
	mask(f, 4, false);
	assert_int_equal(f->last_retarget.calls, 1);
	assert_int_equal(f->last_retarget.n, 4);
	assert_int_equal(f->last_retarget.fd, f->r.vec[4].efd);
	assert_true(f->last_retarget.on);
	assert_int_equal(msix_route_source_fd(&f->r, 4), f->r.vec[4].efd);
	mask(f, 4, true);
	assert_int_equal(f->last_retarget.calls, 2);
	assert_int_equal(f->last_retarget.fd, f->r.vec[4].mask_efd);
	assert_false(f->last_retarget.on);
	assert_int_equal(f->k.deassigns, 0);
	/* The device interrupts while masked: the main loop hands it to pending(). */
	f->pendings = 0;
	assert_int_equal(write(f->r.vec[4].mask_efd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(ev_run_once(&f->vm.ev, 0), 0);
	assert_int_equal(f->pendings, 1);
	/* As vfio/irq.c's pending does: msix_signal, here Pending; unmask delivers it. */
	assert_int_equal(msix_signal(&f->msix, 4), 0);
	mask(f, 4, false);
	assert_int_equal(read(f->r.vec[4].efd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(cnt, 1);
	assert_int_equal(f->k.assigns, 1);
	assert_int_equal(f->k.commits, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_function_unmask_commits_once),
		T(test_mask_toggle_costs_no_kvm_call),
		T(test_message_changes_commit_per_change),
		T(test_refused_flood_is_rate_limited),
		T(test_failed_commit_leaves_vector_off),
		T(test_pending_delivered_on_unmask),
		T(test_retarget_on_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
