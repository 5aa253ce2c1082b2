/*
 * sluice: the Linux x86 64-bit boot protocol (Documentation/arch/x86/boot.rst,
 * protocol 2.15). Everything is checked before guest RAM is touched, and
 * every write goes through guest_mem_ptr(), so a bad layout is an error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include <asm/bootparam.h>
#include <asm/e820.h>
#include <asm/processor-flags.h>

#include "vmm/boot.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/memory.h"

/* boot.rst "The Real-Mode Kernel Header": offsets into the image file. */
#define HDR_OFFSET	0x1f1
#define HDR_JUMP_LEN	0x201		/* second byte of the jump at 0x200 */
#define HDR_SIGNATURE	0x202
#define BOOT_FLAG	0xaa55
#define HDR_MAGIC	0x53726448	/* "HdrS" */
#define PROTO_MIN	0x020c		/* 2.12: xloadflags, XLF_KERNEL_64 */
#define SECTOR		512
#define ENTRY64_OFFSET	0x200		/* boot.rst "64-bit Boot Protocol" */
#define LOADER_UNDEFINED 0xff		/* type_of_loader: "undefined" */
#define VID_MODE_NORMAL	0xffff

#define BZIMAGE_HINT	"pass the kernel's arch/x86/boot/bzImage or /boot/vmlinuz-*"

/* AMD APM Vol 2 §3.1.7 / SDM Vol 3A §2.2.1: IA32_EFER. */
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)

/* SDM Vol 3A §4.5, 4-level paging entries. */
#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_PS		(1ull << 7)
#define PAGE_SIZE	4096ull
#define IDMAP_SIZE	(4 * GiB)
#define IDMAP_PD_PAGES	(IDMAP_SIZE / GiB)	/* one PD maps 1 GiB */

/* What boot_load_linux() decided before it writes anything. */
struct load_plan {
	struct setup_header hdr;
	const char *kname, *iname;
	size_t setup_size, pm_size, cmdline_len;
	uint64_t low_end, kernel_end, initrd_gpa;
	struct boot_e820_entry e820[BOOT_E820_MAX];
	unsigned nr_e820;
};

/* Sizes in messages: what is needed rounds up, what is free rounds down. */
static uint64_t mib_up(uint64_t bytes)
{
	return (bytes + MiB - 1) / MiB;
}

static uint64_t mib_down(uint64_t bytes)
{
	return bytes / MiB;
}

static void read_header(const void *img, struct setup_header *h)
{
	memcpy(h, (const uint8_t *)img + HDR_OFFSET, sizeof(*h));
}

/* boot.rst setup_sects: "If this field is 0, the real value is 4", plus the boot sector. */
static size_t setup_size(const struct setup_header *h)
{
	return ((size_t)(h->setup_sects ? h->setup_sects : 4) + 1) * SECTOR;
}

static int check_header(const struct setup_header *h, size_t len, const char *name)
{
	if (h->boot_flag != BOOT_FLAG) {
		pr_err("%s: not a bzImage (no 0xAA55 boot flag at 0x1fe): " BZIMAGE_HINT, name);
		return -ENOEXEC;
	}
	if (h->header != HDR_MAGIC) {
		pr_err("%s: not a bzImage (no HdrS signature): " BZIMAGE_HINT, name);
		return -ENOEXEC;
	}
	if (h->version < PROTO_MIN) {
		pr_err("%s: boot protocol %u.%02u is too old: the 64-bit entry needs 2.12 (Linux 3.8 or later)",
		       name, h->version >> 8, h->version & 0xff);
		return -ENOEXEC;
	}
	if (!(h->xloadflags & XLF_KERNEL_64)) {
		pr_err("%s: not a 64-bit kernel (xloadflags lacks XLF_KERNEL_64): pass an x86_64 kernel",
		       name);
		return -ENOEXEC;
	}
	if (setup_size(h) >= len) {
		pr_err("%s: truncated: setup_sects %u puts the protected-mode kernel at %zu bytes but the file has %zu",
		       name, h->setup_sects, setup_size(h), len);
		return -ENOEXEC;
	}
	return 0;
}

int boot_check_bzimage(const void *img, size_t len, const char *name)
{
	struct setup_header h;

	if (len >= 4 && !memcmp(img, "\x7f" "ELF", 4)) {
		pr_err("%s: an ELF vmlinux is not supported: pass the compressed arch/x86/boot/bzImage or /boot/vmlinuz-* instead",
		       name);
		return -ENOEXEC;
	}
	if (len < HDR_OFFSET + sizeof(h)) {
		pr_err("%s: not a bzImage (%zu bytes, too short for a setup header): " BZIMAGE_HINT,
		       name, len);
		return -ENOEXEC;
	}
	read_header(img, &h);
	return check_header(&h, len, name);
}

int boot_build_e820(uint64_t ram_size, struct boot_e820_entry *tab, unsigned max,
		    unsigned *nr)
{
	uint64_t low_end = ram_size < LAYOUT_LOWMEM_MAX ? ram_size : LAYOUT_LOWMEM_MAX;
	unsigned need = ram_size > low_end ? 5 : 4;
	unsigned n = 0;

	*nr = 0;
	if (low_end <= LAYOUT_HIMEM) {
		pr_err("guest RAM of %" PRIu64 " KiB is too small: Linux needs RAM above 1 MiB; use a larger --memory",
		       (uint64_t)(ram_size / KiB));
		return -EINVAL;
	}
	if (max < need) {
		pr_err("e820: %u entries needed, room for %u", need, max);
		return -ENOSPC;
	}
	tab[n++] = (struct boot_e820_entry){ 0, LAYOUT_EBDA, E820_RAM };
	/* EBDA, VGA hole and BIOS area; the ACPI tables (LAYOUT_ACPI) live here. */
	tab[n++] = (struct boot_e820_entry){ LAYOUT_EBDA, LAYOUT_HIMEM - LAYOUT_EBDA, E820_RESERVED };
	tab[n++] = (struct boot_e820_entry){ LAYOUT_HIMEM, low_end - LAYOUT_HIMEM, E820_RAM };
	/*
	 * PCI Firmware 3.0 §4.1.2: the MCFG range is reserved by firmware;
	 * Linux ignores MCFG otherwise (arch/x86/pci/mmconfig-shared.c).
	 */
	tab[n++] = (struct boot_e820_entry){ LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE, E820_RESERVED };
	if (ram_size > low_end)
		tab[n++] = (struct boot_e820_entry){ LAYOUT_HIGHMEM, ram_size - low_end, E820_RAM };
	*nr = n;
	return 0;
}

/*
 * boot.rst (kernel_alignment, pref_address, init_size): a relocatable
 * kernel runs from its load address rounded up to kernel_alignment, or from
 * pref_address (LOAD_PHYSICAL_ADDR) when that is higher (head_64.S), and
 * needs init_size bytes there before it can read the memory map.
 */
static uint64_t kernel_end(const struct setup_header *h, size_t pm_size)
{
	uint64_t align = h->kernel_alignment ? h->kernel_alignment : 1;
	uint64_t start = (LAYOUT_HIMEM + align - 1) / align * align;
	uint64_t end = LAYOUT_HIMEM + pm_size;

	if (h->pref_address > start)
		start = h->pref_address;
	return start + h->init_size > end ? start + h->init_size : end;
}

static int plan_kernel(struct load_plan *pl, const void *kernel, size_t klen, uint64_t ram)
{
	int err = boot_check_bzimage(kernel, klen, pl->kname);

	if (err)
		return err;
	read_header(kernel, &pl->hdr);
	pl->setup_size = setup_size(&pl->hdr);
	pl->pm_size = klen - pl->setup_size;
	pl->low_end = ram < LAYOUT_LOWMEM_MAX ? ram : LAYOUT_LOWMEM_MAX;
	pl->kernel_end = kernel_end(&pl->hdr, pl->pm_size);
	if (pl->kernel_end > pl->low_end) {
		pr_err("%s: the kernel needs %" PRIu64 " MiB of RAM (init_size %" PRIu64 " MiB, up to 0x%" PRIx64 ") but the guest has %" PRIu64 " MiB: use a larger --memory",
		       pl->kname, mib_up(pl->kernel_end), mib_up(pl->hdr.init_size), pl->kernel_end,
		       mib_down(pl->low_end));
		return -ENOMEM;
	}
	return 0;
}

/* boot.rst cmdline_size: "the maximum size of the command line without the terminating zero". */
static int plan_cmdline(struct load_plan *pl, const char *cmdline)
{
	uint64_t max = LAYOUT_CMDLINE_MAX - 1;

	if (pl->hdr.cmdline_size < max)
		max = pl->hdr.cmdline_size;
	pl->cmdline_len = strlen(cmdline);
	if (pl->cmdline_len > max) {
		pr_err("%s: the command line is %zu bytes, longer than the %" PRIu64 " the kernel accepts: shorten it",
		       pl->kname, pl->cmdline_len, max);
		return -E2BIG;
	}
	return 0;
}

/*
 * The initrd goes as high as it may (boot.rst initrd_addr_max: the highest
 * address its last byte may occupy), page aligned, so it stays clear of
 * the kernel's init_size region below.
 */
static int plan_initrd(struct load_plan *pl, size_t ilen)
{
	uint64_t top = pl->low_end;

	pl->initrd_gpa = 0;
	if (!ilen)
		return 0;
	if (top > (uint64_t)pl->hdr.initrd_addr_max + 1)
		top = (uint64_t)pl->hdr.initrd_addr_max + 1;
	if (ilen > top || ((top - ilen) & ~(PAGE_SIZE - 1)) < pl->kernel_end) {
		pr_err("%s: the initrd is %" PRIu64 " MiB but only %" PRIu64 " MiB are free between the kernel (up to 0x%" PRIx64 ") and 0x%" PRIx64 ": use a larger --memory",
		       pl->iname, mib_up(ilen), mib_down(top > pl->kernel_end ? top - pl->kernel_end : 0),
		       pl->kernel_end, top);
		return -ENOSPC;
	}
	pl->initrd_gpa = (top - ilen) & ~(PAGE_SIZE - 1);
	return 0;
}

static void *guest_range(struct guest_mem *m, uint64_t gpa, uint64_t len, const char *what)
{
	void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		pr_err("guest RAM (%" PRIu64 " MiB) does not hold %s at [0x%" PRIx64 ", 0x%" PRIx64 ")",
		       mib_down(m->size), what, gpa, gpa + len);
	return p;
}

static int copy_to_guest(struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len,
			 const char *what)
{
	void *dst = guest_range(m, gpa, len, what);

	if (!dst)
		return -ENOMEM;
	memcpy(dst, src, len);
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));	/* x86 host: little-endian like the guest */
}

/* SDM Vol 3A §3.4.5: a code/data segment descriptor. */
static uint64_t gdt_descriptor(const struct boot_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;

	return (limit & 0xffff) | (s->base & 0xffffff) << 16 |
	       (uint64_t)(s->type & 0xf) << 40 | (uint64_t)(s->s & 1) << 44 |
	       (uint64_t)(s->dpl & 3) << 45 | (uint64_t)(s->present & 1) << 47 |
	       (limit >> 16 & 0xf) << 48 | (uint64_t)(s->l & 1) << 53 |
	       (uint64_t)(s->db & 1) << 54 | (uint64_t)(s->g & 1) << 55 |
	       (s->base >> 24 & 0xff) << 56;
}

/* The GDT holds exactly the segments the vCPU starts with, so the two agree. */
static int write_gdt(struct guest_mem *m, const struct boot_entry *e)
{
	uint8_t *gdt = guest_range(m, e->gdt_base, e->gdt_limit + 1ull, "the boot GDT");

	if (!gdt)
		return -ENOMEM;
	memset(gdt, 0, e->gdt_limit + 1ull);
	put64(gdt + (e->cs.selector & ~7u), gdt_descriptor(&e->cs));
	put64(gdt + (e->ds.selector & ~7u), gdt_descriptor(&e->ds));
	return 0;
}

/* boot.rst "64-bit Boot Protocol": kernel, zero page and cmdline identity mapped. */
static int write_page_tables(struct guest_mem *m)
{
	uint8_t *pml4 = guest_range(m, LAYOUT_PML4, PAGE_SIZE, "the PML4");
	uint8_t *pdpt = guest_range(m, LAYOUT_PDPT, PAGE_SIZE, "the PDPT");
	uint8_t *pd = guest_range(m, LAYOUT_PD, IDMAP_PD_PAGES * PAGE_SIZE, "the page directories");
	uint64_t i;

	if (!pml4 || !pdpt || !pd)
		return -ENOMEM;
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	put64(pml4, LAYOUT_PDPT | PTE_P | PTE_RW);
	for (i = 0; i < IDMAP_PD_PAGES; i++)
		put64(pdpt + 8 * i, (LAYOUT_PD + i * PAGE_SIZE) | PTE_P | PTE_RW);
	for (i = 0; i < IDMAP_SIZE / (2 * MiB); i++)
		put64(pd + 8 * i, i * 2 * MiB | PTE_P | PTE_RW | PTE_PS);
	return 0;
}

/*
 * boot.rst "Details of Header Fields": the setup header runs from 0x1f1 to
 * 0x202 + the byte at 0x201; copy it, but never past its slot in boot_params.
 */
static void copy_setup_header(struct boot_params *bp, const uint8_t *kernel)
{
	size_t end = HDR_SIGNATURE + (size_t)kernel[HDR_JUMP_LEN];

	if (end > offsetof(struct boot_params, edd_mbr_sig_buffer))
		end = offsetof(struct boot_params, edd_mbr_sig_buffer);
	memcpy((uint8_t *)bp + HDR_OFFSET, kernel + HDR_OFFSET, end - HDR_OFFSET);
}

static int write_zero_page(struct guest_mem *m, const struct load_plan *pl, const uint8_t *kernel,
			   size_t ilen, const struct boot_extra *x)
{
	struct boot_params *bp = guest_range(m, LAYOUT_ZERO_PAGE, sizeof(*bp), "the zero page");

	if (!bp)
		return -ENOMEM;
	memset(bp, 0, sizeof(*bp));
	copy_setup_header(bp, kernel);
	bp->hdr.type_of_loader = LOADER_UNDEFINED;
	bp->hdr.vid_mode = VID_MODE_NORMAL;
	bp->hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	bp->ext_cmd_line_ptr = (uint32_t)(LAYOUT_CMDLINE >> 32);
	bp->hdr.ramdisk_image = (uint32_t)pl->initrd_gpa;
	bp->ext_ramdisk_image = (uint32_t)(pl->initrd_gpa >> 32);
	bp->hdr.ramdisk_size = (uint32_t)ilen;
	bp->ext_ramdisk_size = (uint32_t)((uint64_t)ilen >> 32);
	bp->acpi_rsdp_addr = x->rsdp_gpa;
	memcpy(bp->e820_table, pl->e820, pl->nr_e820 * sizeof(pl->e820[0]));
	bp->e820_entries = (uint8_t)pl->nr_e820;
	return 0;
}

/* boot.rst "64-bit Boot Protocol": long mode, paging, flat __BOOT_CS/__BOOT_DS, IF=0. */
static void fill_entry(struct boot_entry *e)
{
	const struct boot_segment flat = {
		.limit = 0xffffffff, .present = 1, .s = 1, .g = 1,
	};

	*e = (struct boot_entry){
		.rip = LAYOUT_HIMEM + ENTRY64_OFFSET,
		.rsi = LAYOUT_ZERO_PAGE,
		/* startup_64 loads its own stack; this one only has to be RAM. */
		.rsp = LAYOUT_ZERO_PAGE,
		.rflags = 0x2,		/* bit 1 reads as one; IF clear */
		.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG,
		.cr3 = LAYOUT_PML4,
		.cr4 = X86_CR4_PAE,
		.efer = EFER_LME | EFER_LMA,
		.cs = flat, .ds = flat,
		.gdt_base = LAYOUT_GDT,
		.gdt_limit = BOOT_GDT_ENTRIES * 8 - 1,
	};
	e->cs.selector = BOOT_SEL_CS;
	e->cs.type = 0xb;	/* execute/read, accessed */
	e->cs.l = 1;		/* 64-bit code: L=1 requires D=0 (SDM Vol 3A §5.2.1) */
	e->ds.selector = BOOT_SEL_DS;
	e->ds.type = 0x3;	/* read/write, accessed */
	e->ds.db = 1;
}

static int plan_load(struct load_plan *pl, uint64_t ram, const void *kernel, size_t klen,
		     size_t ilen, const char *cmdline, const struct boot_extra *x)
{
	int err;

	pl->kname = x && x->kernel_name ? x->kernel_name : "kernel";
	pl->iname = x && x->initrd_name ? x->initrd_name : "initrd";
	err = plan_kernel(pl, kernel, klen, ram);
	if (!err)
		err = plan_cmdline(pl, cmdline ? cmdline : "");
	if (!err)
		err = plan_initrd(pl, ilen);
	if (!err)
		err = boot_build_e820(ram, pl->e820, BOOT_E820_MAX, &pl->nr_e820);
	return err;
}

int boot_check_fit(uint64_t ram_size, const void *kernel, size_t klen, size_t ilen,
		   const char *cmdline, const struct boot_extra *x)
{
	struct load_plan pl = { 0 };

	return plan_load(&pl, ram_size, kernel, klen, ilen, cmdline, x);
}

int boot_load_linux(struct guest_mem *m, const void *kernel, size_t klen,
		    const void *initrd, size_t ilen, const char *cmdline,
		    const struct boot_extra *x, struct boot_entry *out)
{
	const struct boot_extra none = { 0 };
	struct load_plan pl = { 0 };
	struct boot_entry e;
	int err;

	x = x ? x : &none;
	ilen = initrd ? ilen : 0;
	cmdline = cmdline ? cmdline : "";
	err = plan_load(&pl, m->size, kernel, klen, ilen, cmdline, x);
	if (err)
		return err;

	fill_entry(&e);
	err = copy_to_guest(m, LAYOUT_HIMEM, (const uint8_t *)kernel + pl.setup_size, pl.pm_size,
			    "the kernel");
	if (!err && ilen)
		err = copy_to_guest(m, pl.initrd_gpa, initrd, ilen, "the initrd");
	if (!err)
		err = copy_to_guest(m, LAYOUT_CMDLINE, cmdline, pl.cmdline_len + 1, "the command line");
	if (!err)
		err = write_zero_page(m, &pl, kernel, ilen, x);
	if (!err)
		err = write_gdt(m, &e);
	if (!err)
		err = write_page_tables(m);
	if (!err)
		*out = e;
	return err;
}
