/*
 * Fuzz target: a passthrough device's config space. vfio_config_init on a
 * fuzzed physical config space (256 or 4096 bytes) and fuzzed region sizes,
 * the MSI/MSI-X takeover (vfio/irq.c), then fuzzed guest config accesses
 * through ECAM, BAR accesses and device interrupts (tests/fuzz/fz_vfio.h).
 *
 * Checked after every step, beyond the sanitizers:
 *   - a guest config write changes the device's config space only in the
 *     bytes it wrote that the policy forwards (vfio_config_forward_mask);
 *   - hidden bytes read 0 (vfio/config.h: "HIDDEN reads 0");
 *   - every message in the GSI routing table passes msi_check.
 */
#include "tests/fuzz/fz_vfio.h"

#define MAX_OPS	48

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t region_size(uint8_t log2)
{
	return log2 ? 1ull << (log2 % 48) : 0;
}

static uint32_t op_len(uint8_t sel)
{
	static const uint32_t lens[] = { 1, 2, 4, 4, 8, 3 };

	return lens[sel % 6];
}

static void check_view(const struct fz_vfio *v)
{
	const struct vfio_dev *d = &v->d;
	uint32_t i;

	for (i = 0; i < PCI_CFG_SPACE_EXP_SIZE; i++)
		fz_assert(d->cfgv.policy[i] != VFIO_CFG_HIDDEN || !d->pci.cfg[i],
			  "hidden byte %#x reads %#x", i, d->pci.cfg[i]);
}

static void cfg_write(struct fz_vfio *v, struct vm *vm, uint32_t off, uint32_t len, uint64_t val)
{
	uint8_t before[PCI_CFG_SPACE_EXP_SIZE], after[PCI_CFG_SPACE_EXP_SIZE], buf[8];
	uint32_t n = v->d.cfgv.len, i;
	unsigned fwd;

	fz_vfio_phys(v, before, n);
	memcpy(buf, &val, sizeof(buf));
	bus_access(&vm->mmio, LAYOUT_ECAM_BASE + ((uint64_t)v->d.pci.slot << 15) + off, buf, len, true);
	fz_vfio_phys(v, after, n);
	fwd = off + len <= PCI_CFG_SPACE_EXP_SIZE ? vfio_config_forward_mask(&v->d.cfgv, off, len) : 0;
	for (i = 0; i < n; i++) {
		bool may = i >= off && i < off + len && (fwd & (1u << (i - off)));

		fz_assert(before[i] == after[i] || may,
			  "a %u-byte write at %#x changed device byte %#x (%#x -> %#x), policy %u",
			  len, off, i, before[i], after[i], v->d.cfgv.policy[i]);
	}
}

static void bar_access(struct fz_vfio *v, unsigned bar, uint32_t off, uint32_t len,
		       uint64_t val, bool is_write)
{
	struct pci_bar *b = bar == PCI_BAR_ROM ? &v->d.pci.rom : &v->d.pci.bar[bar];
	struct bus *bus = pci_dev_bar_bus(&v->d.pci, (int)bar);
	uint8_t buf[8];

	if (!bus || !b->mapped || !b->size)
		return;
	memcpy(buf, &val, sizeof(buf));
	bus_access(bus, b->mapped_addr + off % b->size, buf, len, is_write);
}

/* VFIO signalling vector @n's eventfd while sluice, not KVM, watches it. */
static void host_interrupt(struct fz_vfio *v, struct vm *vm, unsigned n)
{
	uint64_t one = 1;

	if (!v->d.route.nr)
		return;
	fz_assert(write(v->d.route.vec[n % v->d.route.nr].efd, &one, sizeof(one)) == sizeof(one),
		  "eventfd");
	fz_vm_poll(vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t flags = fz_u8(&f), cfg[PCI_CFG_SPACE_EXP_SIZE];
	uint32_t len = flags & 1 ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
	struct vfio_bar_info bar[PCI_STD_NUM_BARS];
	uint8_t ops[MAX_OPS][8];
	struct fz_vfio *v;
	uint64_t rom;
	unsigned nops, i;
	struct vm vm;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		bar[i].size = region_size(fz_u8(&f));
		bar[i].flags = fz_u8(&f) & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
					    VFIO_REGION_INFO_FLAG_MMAP);
	}
	rom = region_size(fz_u8(&f));
	nops = fz_u8(&f) % (MAX_OPS + 1);
	for (i = 0; i < nops; i++)
		fz_bytes(&f, ops[i], sizeof(ops[i]));
	fz_bytes(&f, cfg, len);

	v = calloc(1, sizeof(*v));
	fz_assert(v, "calloc");
	fz_vm_init(&vm, 1 + (flags >> 1) % 4, 0);
	if (fz_vfio_open(v, &vm, cfg, len, bar, rom))
		goto out;
	check_view(v);
	for (i = 0; i < nops; i++) {
		const uint8_t *o = ops[i];
		uint32_t off = (uint32_t)(o[1] | o[2] << 8) % PCI_CFG_SPACE_EXP_SIZE, n = op_len(o[3]);
		uint64_t val = (uint64_t)(o[4] | o[5] << 8 | o[6] << 16 | (uint32_t)o[7] << 24) * 0x100000001ull;
		uint8_t buf[8];

		switch (o[0] % 5) {
		case 0:
			bus_access(&vm.mmio, LAYOUT_ECAM_BASE + ((uint64_t)v->d.pci.slot << 15) + off,
				   buf, n, false);
			break;
		case 1:
			cfg_write(v, &vm, off, n, val);
			break;
		case 2:
		case 3:
			bar_access(v, o[0] / 5 % (PCI_STD_NUM_BARS + 1), off * 4, n, val, o[0] % 5 == 2);
			break;
		default:
			host_interrupt(v, &vm, o[1]);
			break;
		}
		check_view(v);
		fz_check_routes(&vm);
	}
out:
	fz_vfio_close(v);
	fz_vm_exit(&vm);
	free(v);
	return 0;
}
