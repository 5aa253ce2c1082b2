/*
 * cmocka: what VFIO is asked for a passthrough device's MSI/MSI-X
 * (vfio/irq.c's pure planner; the ioctls themselves run in the test bed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/pci_regs.h>

#include "vfio/vfio.h"

#define TABLE	64		/* the device's MSI-X table: Table Size 63 */
#define EN	(PCI_MSIX_FLAGS_ENABLE | (TABLE - 1))
#define MASKED	(EN | PCI_MSIX_FLAGS_MASKALL)

/*
 * Issue 13 item 2: Linux enables MSI-X with every entry masked; VFIO must
 * not be asked for the whole table, only for what is unmasked (at least one
 * vector, to put the function in MSI-X mode), and grow from there.
 */
static void msix_enable_asks_for_unmasked_only(void **state)
{
	struct vfio_irq_state s = { .index = -1 };
	struct vfio_irq_plan p;
	unsigned count;

	(void)state;
	assert_true(vfio_irq_plan(&s, MASKED, true, 0, false, 0, &p));
	assert_int_equal(p.index, VFIO_PCI_MSIX_IRQ_INDEX);
	assert_int_equal(p.count, 1);
	s.index = p.index;
	s.count = p.count;
	/* The guest unmasks vector 0, then 2: grow to 3, never to the table. */
	assert_false(vfio_irq_grow(&s, 0, true, &count));
	assert_true(vfio_irq_grow(&s, 2, true, &count));
	assert_int_equal(count, 3);
	s.count = count;
	assert_false(vfio_irq_grow(&s, 1, true, &count));
	/* A vector taken off never grows anything. */
	assert_false(vfio_irq_grow(&s, 40, false, &count));
	/* Enabled with vectors 0-4 already unmasked: 5. */
	s = (struct vfio_irq_state){ .index = -1 };
	assert_true(vfio_irq_plan(&s, EN, true, 5, false, 0, &p));
	assert_int_equal(p.count, 5);
}

/* A failed enable is not retried on every later config write, only once Message Control changes. */
static void failed_enable_waits_for_message_control(void **state)
{
	struct vfio_irq_state s = { .index = -1 };
	struct vfio_irq_plan p;
	unsigned i, count;

	(void)state;
	assert_true(vfio_irq_plan(&s, MASKED, true, 0, false, 0, &p));
	s.failed = true;		/* VFIO said no; index stays -1 */
	for (i = 0; i < 1000; i++)	/* command register, BAR writes... */
		assert_false(vfio_irq_plan(&s, MASKED, true, 0, false, 0, &p));
	assert_true(s.failed);
	assert_true(vfio_irq_plan(&s, EN, true, 0, false, 0, &p));	/* Function Mask cleared */
	assert_false(s.failed);
	/* A failed grow: no more grows until Message Control changes. */
	s = (struct vfio_irq_state){ .index = VFIO_PCI_MSIX_IRQ_INDEX, .count = 1, .ctl = EN,
				     .failed = true };
	assert_false(vfio_irq_grow(&s, 7, true, &count));
	assert_false(vfio_irq_plan(&s, EN, true, 8, false, 0, &p));	/* same control: still no */
	assert_false(vfio_irq_plan(&s, MASKED, true, 8, false, 0, &p));	/* changed: cleared, same index */
	assert_false(s.failed);
	assert_true(vfio_irq_grow(&s, 7, true, &count));
}

/* MSI-X off: back to none (then INTx); MSI gets its Multiple Message Enable count. */
static void off_and_msi(void **state)
{
	struct vfio_irq_state s = { .index = VFIO_PCI_MSIX_IRQ_INDEX, .count = 3, .ctl = EN };
	struct vfio_irq_plan p;

	(void)state;
	assert_true(vfio_irq_plan(&s, TABLE - 1, false, 0, false, 0, &p));
	assert_int_equal(p.index, -1);
	s = (struct vfio_irq_state){ .index = -1 };
	assert_true(vfio_irq_plan(&s, (uint32_t)PCI_MSI_FLAGS_ENABLE << 16, false, 0, true, 4, &p));
	assert_int_equal(p.index, VFIO_PCI_MSI_IRQ_INDEX);
	assert_int_equal(p.count, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(msix_enable_asks_for_unmasked_only),
		cmocka_unit_test(failed_enable_waits_for_message_control),
		cmocka_unit_test(off_and_msi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
