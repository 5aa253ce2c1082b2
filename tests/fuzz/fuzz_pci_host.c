/*
 * Fuzz target: the guest's view of the PCI bus. A PCI host (vmm/pci.c) with
 * a passthrough-like igb VF (tests/fuzz/fz_vfio.h: PM, MSI, MSI-X, PCIe, and
 * the AER, SR-IOV and ATS extended capabilities sluice hides) and a virtio
 * device (tests/fuzz/fz_virtio.h) with the PCI configuration access window
 * (virtio 1.2 §4.1.4.9). The input is a sequence of what a guest can do:
 * CF8/CFC and ECAM accesses of every size and alignment, accesses to the
 * BARs wherever the guest placed them, interrupts from the devices.
 *
 * Checked beyond the sanitizers: every message in the GSI routing table
 * passes msi_check, whichever device and path put it there.
 */
#include "tests/fuzz/fz_virtio.h"
#include "tests/fuzz/fz_vfio.h"

#define RAM_SIZE	(64 * 1024)
#define MAX_OPS		64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t vf_cfg[PCI_CFG_SPACE_EXP_SIZE];
static struct vfio_bar_info vf_bar[PCI_STD_NUM_BARS];

static void cap(uint32_t off, uint8_t id, uint8_t next)
{
	vf_cfg[off] = id;
	vf_cfg[off + 1] = next;
}

static void ecap(uint32_t off, uint16_t id, uint32_t next)
{
	pci_put32(&vf_cfg[off], id | 1u << 16 | next << 20);
}

/* An 82576 VF as the test bed has it, plus PM and MSI so every emulated capability is there. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	pci_put16(&vf_cfg[PCI_VENDOR_ID], 0x8086);
	pci_put16(&vf_cfg[PCI_DEVICE_ID], 0x10ca);
	pci_put32(&vf_cfg[PCI_CLASS_REVISION], 0x02000001);
	pci_put32(&vf_cfg[PCI_BASE_ADDRESS_0], 0xf000000c);
	pci_put32(&vf_cfg[PCI_BASE_ADDRESS_3], 0xf001000c);
	vf_cfg[PCI_INTERRUPT_PIN] = 1;
	vf_cfg[PCI_CAPABILITY_LIST] = 0x40;
	vf_cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	cap(0x40, PCI_CAP_ID_PM, 0x50);
	pci_put16(&vf_cfg[0x42], 0x0003);
	cap(0x50, PCI_CAP_ID_MSI, 0x70);
	pci_put16(&vf_cfg[0x52], 0x0186);	/* 64-bit, per-vector masking, 8 vectors */
	cap(0x70, PCI_CAP_ID_MSIX, 0xa0);
	pci_put16(&vf_cfg[0x72], 0x0002);	/* 3 vectors */
	pci_put32(&vf_cfg[0x74], 0x00000003);	/* table: BAR3 + 0 */
	pci_put32(&vf_cfg[0x78], 0x00002003);	/* PBA: BAR3 + 0x2000 */
	cap(0xa0, PCI_CAP_ID_EXP, 0);
	pci_put16(&vf_cfg[0xa0 + PCI_EXP_FLAGS], 0x0002);
	pci_put32(&vf_cfg[0xa0 + PCI_EXP_DEVCAP], 0x10008cc2);
	pci_put16(&vf_cfg[0xa0 + PCI_EXP_DEVCTL], 0x2810);
	ecap(0x100, PCI_EXT_CAP_ID_ERR, 0x150);
	ecap(0x150, PCI_EXT_CAP_ID_ARI, 0x160);
	ecap(0x160, PCI_EXT_CAP_ID_SRIOV, 0x1a0);
	ecap(0x1a0, PCI_EXT_CAP_ID_ATS, 0);
	vf_bar[0] = (struct vfio_bar_info){ 0x4000, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE };
	vf_bar[3] = vf_bar[0];
	return 0;
}

static uint64_t val64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A BAR of one of the two devices, wherever the guest put it (or nowhere). */
static void bar_io(struct pci_dev *dev, const uint8_t *o, bool is_write)
{
	unsigned b = o[1] % (PCI_STD_NUM_BARS + 1);
	struct pci_bar *bar = b == PCI_BAR_ROM ? &dev->rom : &dev->bar[b];
	struct bus *bus = pci_dev_bar_bus(dev, (int)b);
	uint8_t buf[8];

	if (!bus || !bar->mapped || !bar->size)
		return;
	memcpy(buf, o + 8, sizeof(buf));
	bus_access(bus, bar->mapped_addr + (o[2] | o[3] << 8 | (uint32_t)o[4] << 16) % bar->size, buf,
		   1u << (o[5] % 4), is_write);
}

static void cfg_io(struct vm *vm, const uint8_t *o)
{
	uint32_t len = (uint32_t[]){ 1, 2, 4, 4, 8, 3 }[o[5] % 6], reg = (o[2] | o[3] << 8) & 0xfff;
	uint64_t dev = o[1] % 8, fn = o[4] % 8;
	bool is_write = o[0] & 0x80;
	uint8_t buf[8];

	memcpy(buf, o + 8, sizeof(buf));
	if (o[6] & 1) {	/* ECAM: bus 0, device dev, function fn */
		bus_access(&vm->mmio, LAYOUT_ECAM_BASE + (dev << 15 | fn << 12 | reg), buf, len, is_write);
		return;
	}
	/* CF8/CFC: enable bit (usually), bus (usually 0), device, function, register */
	pci_put32(buf, (o[7] & 1 ? 0 : 0x80000000u) | (o[7] & 2 ? (uint32_t)o[7] << 16 : 0) |
		  (uint32_t)dev << 11 | (uint32_t)fn << 8 | (reg & 0xfc));
	bus_access(&vm->pio, LAYOUT_PORT_PCI_CF8, buf, o[7] & 4 ? 2 : 4, true);
	memcpy(buf, o + 8, sizeof(buf));
	bus_access(&vm->pio, LAYOUT_PORT_PCI_CFC + (reg & 3), buf, len > 4 ? 4 : len, is_write);
}

static void interrupt(struct vm *vm, struct fz_vfio *v, struct virtio_pci *vp, const uint8_t *o)
{
	uint64_t one = 1;

	if (o[1] & 1 && v->d.route.nr)
		fz_assert(write(v->d.route.vec[o[2] % v->d.route.nr].efd, &one, 8) == 8, "eventfd");
	else if (o[1] & 2)
		virtio_pci_needs_reset(vp);
	else
		virtio_pci_notify(vp, o[2] % vp->cfg.nr_queues);
	fz_vm_poll(vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t setup = fz_u8(&f), o[16];
	struct virtio_pci *vp;
	struct fz_vfio *v;
	unsigned nops, i;
	struct vm vm;

	v = calloc(1, sizeof(*v));
	fz_assert(v, "calloc");
	fz_vm_init(&vm, 1 + setup % 4, RAM_SIZE);
	fz_assert(!fz_vfio_open(v, &vm, vf_cfg, sizeof(vf_cfg), vf_bar, setup & 0x10 ? 0x8000 : 0),
		  "the VF does not attach");
	fz_assert(!fz_vpci_create(&vp, &vm, 1ull << 5, 1 + (setup >> 5) % 4, 256),
		  "the virtio device does not attach");
	nops = fz_u8(&f) % (MAX_OPS + 1);
	for (i = 0; i < nops; i++) {
		fz_bytes(&f, o, sizeof(o));
		switch (o[0] % 8) {
		case 0:
		case 1:
		case 2:
			cfg_io(&vm, o);
			break;
		case 3:
		case 4:
			bar_io(o[6] & 1 ? &v->d.pci : &vp->pci, o, o[0] % 8 == 3);
			break;
		case 5:	/* anywhere in the MMIO or port space */
			bus_access(o[6] & 1 ? &vm.pio : &vm.mmio,
				   o[6] & 1 ? (o[1] | o[2] << 8) : 0xc0000000ull + (val64(o + 1) & 0x3fffffff),
				   (uint8_t *)o + 8, 1u << (o[5] % 4), o[7] & 1);
			break;
		case 6:
			interrupt(&vm, v, vp, o);
			break;
		default:
			fz_vm_poll(&vm);
			break;
		}
		fz_check_routes(&vm);
	}
	virtio_pci_destroy(vp);
	fz_vfio_close(v);
	fz_vm_exit(&vm);
	free(v);
	return 0;
}
