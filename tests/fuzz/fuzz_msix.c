/*
 * Fuzz target: sequences of MSI-X table, PBA and Message Control accesses
 * and MSI capability writes (vmm/msix.c, vmm/msi.c) from a guest, with the
 * device raising vectors meanwhile, wired as a device model wires them: the
 * msi_ops go to vmm/msix_route.c, which turns a vector into a GSI route.
 * The table layout and vector counts come from the input too.
 *
 * Checked after every step: every message in the GSI routing table passes
 * msi_check (the guest's own APICs, fixed or lowest priority, edge, vector
 * >= 16), i.e. whatever the guest programs, nothing else reaches routing.
 */
#include <errno.h>
#include <unistd.h>

#include "tests/fuzz/fz.h"
#include "vmm/msi.h"
#include "vmm/msix.h"
#include "vmm/msix_route.h"

#define BAR		2
#define BAR_SIZE	0x10000
#define MAX_OPS		64

struct tdev {
	struct pci_dev pci;
	struct msix msix;
	struct msi msi;
	struct msix_route rx, rm;	/* MSI-X's vectors, MSI's */
	bool has_msix, has_msi;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tdev *to_tdev(struct pci_dev *d)
{
	return (struct tdev *)((char *)d - offsetof(struct tdev, pci));
}

static void tdev_cfg_read(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct tdev *t = to_tdev(d);

	if (t->has_msi)
		msi_cfg_read(&t->msi, off, len);
}

static void tdev_cfg_write(struct pci_dev *d, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct tdev *t = to_tdev(d);

	(void)data;
	if (t->has_msix)
		msix_cfg_written(&t->msix, off, len);
	if (t->has_msi)
		msi_cfg_written(&t->msi, off, len);
}

static void tdev_bar_access(struct pci_dev *d, int bar, uint64_t offset, uint8_t *data,
			    uint32_t len, bool is_write)
{
	struct tdev *t = to_tdev(d);

	if ((!t->has_msix || !msix_bar_access(&t->msix, bar, offset, data, len, is_write)) && !is_write)
		memset(data, 0, len);
}

static const struct pci_dev_ops tdev_ops = {
	.cfg_read = tdev_cfg_read, .cfg_write = tdev_cfg_write, .bar_access = tdev_bar_access,
};

/* The main loop read a vector's eventfd while it was not routed: set Pending, or deliver. */
static void msix_pending(void *opaque, unsigned n)
{
	msix_signal(&((struct tdev *)opaque)->msix, n);
}

static void msi_pending(void *opaque, unsigned n)
{
	msi_signal(&((struct tdev *)opaque)->msi, n);
}

static const struct msix_route_ops rx_ops = { .pending = msix_pending };
static const struct msix_route_ops rm_ops = { .pending = msi_pending };

static void msix_update(void *o, unsigned n, uint64_t addr, uint32_t data, bool on)
{
	msix_route_update(&((struct tdev *)o)->rx, n, addr, data, on);
}

static void msix_fire(void *o, unsigned n)
{
	msix_route_fire(&((struct tdev *)o)->rx, n);
}

static void msi_update(void *o, unsigned n, uint64_t addr, uint32_t data, bool on)
{
	msix_route_update(&((struct tdev *)o)->rm, n, addr, data, on);
}

static void msi_fire(void *o, unsigned n)
{
	msix_route_fire(&((struct tdev *)o)->rm, n);
}

static const struct msi_ops msix_ops = { .update = msix_update, .fire = msix_fire };
static const struct msi_ops msi_ops = { .update = msi_update, .fire = msi_fire };

/* Set up from 8 input bytes; false when msix/msi refuse the layout (also fuzzed). */
static bool tdev_init(struct tdev *t, struct vm *vm, struct fz *f)
{
	uint16_t nr = (uint16_t)(fz_u16(f) % 64 + 1);
	struct msix_layout l = { .nr_vectors = nr, .table_bar = BAR, .pba_bar = BAR,
				 .table_offset = (uint32_t)(fz_u16(f) & 0xfff8),
				 .pba_offset = (uint32_t)(fz_u16(f) & 0xfff8) };
	uint8_t m = fz_u8(f), mflags = fz_u8(f);

	pci_dev_init(&t->pci, "fuzz-msix", &tdev_ops, 0x1af4, 0x10f0, 0x020000);
	t->pci.bar[BAR] = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = BAR_SIZE };
	if (msix_init(&t->msix, &t->pci, &l, &msix_ops, t))
		return false;
	t->has_msix = true;
	if (msi_init(&t->msi, &t->pci, 1u << (m % 6), mflags & 3, &msi_ops, t))
		return false;
	t->has_msi = true;
	fz_assert(!msix_route_init(&t->rx, vm, "msix", nr, &rx_ops, t), "msix_route_init");
	fz_assert(!msix_route_init(&t->rm, vm, "msi", MSI_MAX_VECTORS, &rm_ops, t), "msix_route_init");
	return !pci_host_add(&vm->pci, &t->pci);
}

static void tdev_exit(struct tdev *t, struct vm *vm)
{
	if (t->pci.host)
		pci_host_remove(&vm->pci, &t->pci);
	msix_route_exit(&t->rm);
	msix_route_exit(&t->rx);
	if (t->has_msi)
		msi_exit(&t->msi);
	if (t->has_msix)
		msix_exit(&t->msix);
}

/* A config access inside one of the capabilities (or anywhere, now and then). */
static void cfg_io(struct tdev *t, struct vm *vm, const uint8_t *o, bool is_write)
{
	uint32_t len = (uint32_t[]){ 1, 2, 4, 4 }[o[1] % 4], off = o[2];
	uint8_t buf[4];

	if (o[1] & 0x10)
		off = t->msix.cap + o[2] % 12;
	else if (o[1] & 0x20)
		off = t->msi.cap + o[2] % 24;
	memcpy(buf, o + 4, 4);
	bus_access(&vm->mmio, LAYOUT_ECAM_BASE + ((uint64_t)t->pci.slot << 15) + off, buf, len, is_write);
}

static void bar_io(struct tdev *t, struct vm *vm, const uint8_t *o, bool is_write)
{
	struct pci_bar *b = &t->pci.bar[BAR];
	uint32_t base = o[1] & 1 ? t->msix.layout.pba_offset : t->msix.layout.table_offset;
	uint32_t off = base + ((uint32_t)(o[2] | o[3] << 8) % (t->msix.layout.nr_vectors * 16 + 8));
	uint8_t buf[8];

	if (!b->mapped)
		return;
	memcpy(buf, o + 4, 4);
	memcpy(buf + 4, o + 4, 4);
	bus_access(&vm->mmio, b->mapped_addr + off % BAR_SIZE, buf, (uint32_t[]){ 4, 8, 4, 2 }[o[1] >> 1 & 3],
		   is_write);
}

/* The device raises a vector: through msix_signal/msi_signal, or its eventfd (VFIO's way). */
static void raise(struct tdev *t, struct vm *vm, const uint8_t *o)
{
	struct msix_route *r = o[1] & 1 ? &t->rm : &t->rx;
	uint64_t one = 1;

	if (o[1] & 2)
		fz_assert(write(r->vec[o[2] % r->nr].efd, &one, 8) == 8, "eventfd");
	else if (o[1] & 1)
		msi_signal(&t->msi, o[2] % MSI_MAX_VECTORS);
	else
		msix_signal(&t->msix, o[2] % t->msix.layout.nr_vectors);
	fz_vm_poll(vm);
}

/* Enable MSI-X or MSI with a command register that decodes memory: where most inputs want to be. */
static void enable(struct tdev *t, struct vm *vm, const uint8_t *o)
{
	uint8_t cmd[2] = { PCI_COMMAND_MEMORY, 0 }, ctl[2] = { 0, (uint8_t)(o[1] & 0x80 ? 0xc0 : 0x80) };
	uint64_t ecam = LAYOUT_ECAM_BASE + ((uint64_t)t->pci.slot << 15);

	bus_access(&vm->mmio, ecam + PCI_COMMAND, cmd, 2, true);
	if (o[1] & 1) {
		ctl[0] = (uint8_t)(1 | (o[2] & 7) << 4);	/* MSI Enable, Multiple Message Enable */
		ctl[1] = 0;
		bus_access(&vm->mmio, ecam + t->msi.cap + PCI_MSI_FLAGS, ctl, 2, true);
	} else {
		bus_access(&vm->mmio, ecam + t->msix.cap + PCI_MSIX_FLAGS, ctl, 2, true);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t cpus = fz_u8(&f), o[8];
	struct tdev *t = calloc(1, sizeof(*t));
	unsigned nops, i;
	struct vm vm;

	fz_assert(t, "calloc");
	fz_vm_init(&vm, 1 + cpus % 8, 0);
	if (!tdev_init(t, &vm, &f))
		goto out;
	nops = fz_u8(&f) % (MAX_OPS + 1);
	for (i = 0; i < nops; i++) {
		fz_bytes(&f, o, sizeof(o));
		switch (o[0] % 8) {
		case 0:
		case 1:
			cfg_io(t, &vm, o, o[0] % 8);
			break;
		case 2:
		case 3:
		case 4:
			bar_io(t, &vm, o, o[0] % 8 != 4);
			break;
		case 5:
			raise(t, &vm, o);
			break;
		case 6:
			enable(t, &vm, o);
			break;
		default:
			fz_vm_poll(&vm);
			break;
		}
		fz_check_routes(&vm);
	}
out:
	tdev_exit(t, &vm);
	fz_vm_exit(&vm);
	free(t);
	return 0;
}
