/* cmocka: the Linux x86 64-bit boot protocol, on synthetic bzImages in a plain RAM buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <asm/bootparam.h>
#include <asm/e820.h>
#include <asm/processor-flags.h>

#include "vmm/boot.h"
#include "vmm/layout.h"
#include "vmm/memory.h"

#define SETUP_SIZE	0x1000		/* boot sector + 7 setup sectors */
#define PM_SIZE		0x3000		/* the "protected-mode kernel" */
#define IMG_SIZE	(SETUP_SIZE + PM_SIZE)
#define RAM_SIZE	(64 * MiB)
#define PREF_ADDRESS	(16 * MiB)
#define INIT_SIZE	(16 * MiB)
#define KERNEL_END	(PREF_ADDRESS + INIT_SIZE)	/* what the loader must keep free */
#define RSDP_GPA	(LAYOUT_ACPI + 0x40)

struct fx {
	struct guest_mem m;
	uint8_t *ram;
	uint8_t img[IMG_SIZE];
	struct boot_entry e;
};

static struct setup_header *hdr_of(uint8_t *img)
{
	return (struct setup_header *)(img + 0x1f1);
}

static struct boot_params *zero_page(struct fx *f)
{
	return (struct boot_params *)(f->ram + LAYOUT_ZERO_PAGE);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void pattern(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 12));
}

/* A minimal bzImage: a valid header (boot.rst, protocol 2.15) and a payload. */
static void make_image(uint8_t *img)
{
	struct setup_header *h = hdr_of(img);

	memset(img, 0, IMG_SIZE);
	pattern(img + SETUP_SIZE, PM_SIZE, 3);
	h->setup_sects = SETUP_SIZE / 512 - 1;
	h->boot_flag = 0xaa55;
	h->jump = 0x66eb;		/* jmp 0x268: the header ends at 0x202 + 0x66 */
	h->header = 0x53726448;		/* "HdrS" */
	h->version = 0x020f;
	h->kernel_version = 0x1234;
	h->loadflags = LOADED_HIGH;
	h->xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	h->cmdline_size = 2047;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 2 * MiB;
	h->relocatable_kernel = 1;
	h->pref_address = PREF_ADDRESS;
	h->init_size = INIT_SIZE;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->ram = calloc(1, RAM_SIZE);
	if (!f->ram) {
		free(f);
		return -1;
	}
	guest_mem_layout(&f->m, f->ram, RAM_SIZE);
	f->m.fd = -1;
	make_image(f->img);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

static int load(struct fx *f, const void *initrd, size_t ilen, const char *cmdline)
{
	const struct boot_extra x = {
		.kernel_name = "test-bzImage", .initrd_name = "test-initrd", .rsdp_gpa = RSDP_GPA,
	};

	return boot_load_linux(&f->m, f->img, sizeof(f->img), initrd, ilen, cmdline, &x, &f->e);
}

static int check(struct fx *f, size_t len)
{
	return boot_check_bzimage(f->img, len, "test-bzImage");
}

static void load_valid_image(void **state)
{
	struct fx *f = *state;
	size_t ilen = 3 * MiB + 123;
	uint8_t *initrd = malloc(ilen);
	struct boot_params *bp = zero_page(f);
	uint64_t at;

	assert_non_null(initrd);
	pattern(initrd, ilen, 11);
	assert_int_equal(load(f, initrd, ilen, "console=ttyS0 root=/dev/vda"), 0);

	assert_memory_equal(f->ram + LAYOUT_HIMEM, f->img + SETUP_SIZE, PM_SIZE);
	assert_string_equal((char *)f->ram + LAYOUT_CMDLINE, "console=ttyS0 root=/dev/vda");

	at = bp->hdr.ramdisk_image;
	assert_int_equal(at, (RAM_SIZE - ilen) & ~0xfffull);	/* as high as fits, page-aligned */
	assert_true(at >= KERNEL_END && at + ilen <= RAM_SIZE);
	assert_int_equal(bp->hdr.ramdisk_size, ilen);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(bp->ext_ramdisk_size, 0);
	assert_memory_equal(f->ram + at, initrd, ilen);

	/* Header copied from the image, loader fields filled in. */
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.kernel_version, 0x1234);
	assert_int_equal(bp->hdr.init_size, INIT_SIZE);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->acpi_rsdp_addr, RSDP_GPA);
	assert_int_equal(bp->e820_entries, 4);
	assert_int_equal(bp->e820_table[2].addr, LAYOUT_HIMEM);
	assert_int_equal(bp->e820_table[2].size, RAM_SIZE - LAYOUT_HIMEM);
	free(initrd);
}

static void load_initrd_below_addr_max(void **state)
{
	struct fx *f = *state;
	uint8_t initrd[5000];
	struct boot_params *bp = zero_page(f);

	pattern(initrd, sizeof(initrd), 5);
	hdr_of(f->img)->initrd_addr_max = 48 * MiB - 1;
	assert_int_equal(load(f, initrd, sizeof(initrd), "quiet"), 0);
	assert_int_equal(bp->hdr.ramdisk_image, (48 * MiB - sizeof(initrd)) & ~0xfffull);
	assert_memory_equal(f->ram + bp->hdr.ramdisk_image, initrd, sizeof(initrd));
}

static void load_without_initrd_or_cmdline(void **state)
{
	struct fx *f = *state;
	struct boot_params *bp = zero_page(f);

	memset(f->ram + LAYOUT_CMDLINE, 'x', 16);
	assert_int_equal(boot_load_linux(&f->m, f->img, IMG_SIZE, NULL, 0, NULL, NULL, &f->e), 0);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_int_equal(bp->acpi_rsdp_addr, 0);
	assert_string_equal((char *)f->ram + LAYOUT_CMDLINE, "");
}

/* Each broken image is refused before guest RAM is touched. */
static void reject(struct fx *f, size_t len)
{
	assert_int_equal(check(f, len), -ENOEXEC);
	assert_int_equal(boot_load_linux(&f->m, f->img, len, NULL, 0, "", NULL, &f->e), -ENOEXEC);
	assert_int_equal(f->ram[LAYOUT_HIMEM], 0);
	assert_int_equal(f->ram[LAYOUT_ZERO_PAGE + 0x202], 0);
	make_image(f->img);
}

static void rejects_broken_images(void **state)
{
	struct fx *f = *state;

	assert_int_equal(check(f, IMG_SIZE), 0);
	reject(f, 0x200);
	reject(f, 0x267);				/* header cut short */
	f->img[0x1fe] = 0;
	reject(f, IMG_SIZE);				/* no 0xAA55 */
	hdr_of(f->img)->header = 0x53726447;
	reject(f, IMG_SIZE);				/* no HdrS */
	hdr_of(f->img)->version = 0x020b;
	reject(f, IMG_SIZE);				/* 2.11: no XLF_KERNEL_64 yet */
	hdr_of(f->img)->xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	reject(f, IMG_SIZE);				/* 32-bit kernel */
	memcpy(f->img, "\x7f" "ELF\x02\x01\x01", 7);
	reject(f, IMG_SIZE);				/* vmlinux */
	hdr_of(f->img)->setup_sects = 0x30;
	reject(f, IMG_SIZE);				/* setup beyond the file */
	reject(f, SETUP_SIZE);				/* no protected-mode part */
}

static void setup_sects_zero_means_four(void **state)
{
	struct fx *f = *state;

	hdr_of(f->img)->setup_sects = 0;
	assert_int_equal(check(f, 5 * 512), -ENOEXEC);
	assert_int_equal(check(f, 5 * 512 + 1), 0);
	assert_int_equal(boot_load_linux(&f->m, f->img, IMG_SIZE, NULL, 0, "", NULL, &f->e), 0);
	assert_memory_equal(f->ram + LAYOUT_HIMEM, f->img + 5 * 512, IMG_SIZE - 5 * 512);
}

static void cmdline_too_long(void **state)
{
	struct fx *f = *state;
	size_t max = LAYOUT_CMDLINE_MAX;
	char *s = malloc(max + 1);

	assert_non_null(s);
	memset(s, 'a', max);
	s[2048] = '\0';
	assert_int_equal(load(f, NULL, 0, s), -E2BIG);	/* cmdline_size 2047 */
	s[2047] = '\0';
	assert_int_equal(load(f, NULL, 0, s), 0);
	assert_int_equal(strlen((char *)f->ram + LAYOUT_CMDLINE), 2047);

	/* A kernel that takes more than sluice has room for is capped at LAYOUT_CMDLINE_MAX. */
	hdr_of(f->img)->cmdline_size = 0x100000;
	memset(s, 'a', max);
	s[max] = '\0';
	assert_int_equal(load(f, NULL, 0, s), -E2BIG);
	s[max - 1] = '\0';
	assert_int_equal(load(f, NULL, 0, s), 0);
	free(s);
}

static void initrd_too_large(void **state)
{
	struct fx *f = *state;
	size_t room = RAM_SIZE - KERNEL_END;
	uint8_t *initrd = calloc(1, room + 1);

	assert_non_null(initrd);
	assert_int_equal(load(f, initrd, room + 1, ""), -ENOSPC);
	assert_int_equal(load(f, initrd, room, ""), 0);
	assert_int_equal(zero_page(f)->hdr.ramdisk_image, KERNEL_END);

	/* Rounding the start down to a page must not cross into the kernel either. */
	hdr_of(f->img)->init_size = INIT_SIZE + 100;
	assert_int_equal(load(f, initrd, room - 100, ""), -ENOSPC);
	assert_int_equal(load(f, initrd, room - 4096, ""), 0);
	assert_int_equal(zero_page(f)->hdr.ramdisk_image, KERNEL_END + 4096);
	free(initrd);
}

static void ram_too_small_for_init_size(void **state)
{
	struct fx *f = *state;

	guest_mem_layout(&f->m, f->ram, KERNEL_END - 1);
	assert_int_equal(load(f, NULL, 0, ""), -ENOMEM);
	assert_int_equal(f->ram[LAYOUT_HIMEM], 0);
	guest_mem_layout(&f->m, f->ram, KERNEL_END);
	assert_int_equal(load(f, NULL, 0, ""), 0);

	/* A kernel without pref_address still needs init_size from 1 MiB (rounded to 2 MiB). */
	hdr_of(f->img)->pref_address = 0;
	hdr_of(f->img)->init_size = KERNEL_END;
	assert_int_equal(load(f, NULL, 0, ""), -ENOMEM);
}

static void assert_e820_sane(const struct boot_e820_entry *t, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		assert_true(t[i].size > 0);
		assert_true(t[i].type == E820_RAM || t[i].type == E820_RESERVED);
		if (i)
			assert_true(t[i - 1].addr + t[i - 1].size <= t[i].addr);
	}
}

static void assert_entry(const struct boot_e820_entry *e, uint64_t addr, uint64_t size,
			 uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

static void e820_256m(void **state)
{
	struct boot_e820_entry t[BOOT_E820_MAX];
	unsigned n;

	(void)state;
	assert_int_equal(boot_build_e820(256 * MiB, t, BOOT_E820_MAX, &n), 0);
	assert_int_equal(n, 4);
	assert_e820_sane(t, n);
	assert_entry(&t[0], 0, LAYOUT_EBDA, E820_RAM);
	assert_entry(&t[1], LAYOUT_EBDA, MiB - LAYOUT_EBDA, E820_RESERVED);
	assert_true(t[1].addr <= LAYOUT_ACPI && LAYOUT_ACPI + LAYOUT_ACPI_SIZE <= MiB);
	assert_entry(&t[2], MiB, 255 * MiB, E820_RAM);
	assert_entry(&t[3], LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE, E820_RESERVED);
}

static void e820_4g(void **state)
{
	struct boot_e820_entry t[BOOT_E820_MAX];
	unsigned n;

	(void)state;
	assert_int_equal(boot_build_e820(4 * GiB, t, BOOT_E820_MAX, &n), 0);
	assert_int_equal(n, 5);
	assert_e820_sane(t, n);
	assert_entry(&t[2], MiB, LAYOUT_LOWMEM_MAX - MiB, E820_RAM);
	assert_entry(&t[3], LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE, E820_RESERVED);
	assert_entry(&t[4], LAYOUT_HIGHMEM, 4 * GiB - LAYOUT_LOWMEM_MAX, E820_RAM);
}

static void e820_at_lowmem_max(void **state)
{
	struct boot_e820_entry t[BOOT_E820_MAX];
	unsigned n;

	(void)state;
	assert_int_equal(boot_build_e820(LAYOUT_LOWMEM_MAX, t, BOOT_E820_MAX, &n), 0);
	assert_int_equal(n, 4);
	assert_e820_sane(t, n);
	assert_entry(&t[2], MiB, LAYOUT_LOWMEM_MAX - MiB, E820_RAM);

	assert_int_equal(boot_build_e820(LAYOUT_LOWMEM_MAX + 2 * MiB, t, BOOT_E820_MAX, &n), 0);
	assert_int_equal(n, 5);
	assert_entry(&t[4], LAYOUT_HIGHMEM, 2 * MiB, E820_RAM);
}

static void e820_errors(void **state)
{
	struct boot_e820_entry t[BOOT_E820_MAX];
	unsigned n = 9;

	(void)state;
	assert_int_equal(boot_build_e820(MiB, t, BOOT_E820_MAX, &n), -EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(boot_build_e820(4 * GiB, t, 4, &n), -ENOSPC);
	assert_int_equal(boot_build_e820(256 * MiB, t, 4, &n), 0);
}

static void page_tables_map_4g(void **state)
{
	struct fx *f = *state;
	const uint64_t prw = 0x3, ps = 0x80;
	uint64_t i;

	assert_int_equal(load(f, NULL, 0, ""), 0);
	assert_int_equal(rd64(f->ram + LAYOUT_PML4), LAYOUT_PDPT | prw);
	for (i = 1; i < 512; i++)
		assert_int_equal(rd64(f->ram + LAYOUT_PML4 + 8 * i), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(rd64(f->ram + LAYOUT_PDPT + 8 * i), (LAYOUT_PD + 4096 * i) | prw);
	assert_int_equal(rd64(f->ram + LAYOUT_PDPT + 8 * 4), 0);
	for (i = 0; i < 2048; i++)
		assert_int_equal(rd64(f->ram + LAYOUT_PD + 8 * i), (i * 2 * MiB) | prw | ps);
}

struct desc {
	uint32_t base, limit;
	unsigned type, s, dpl, p, l, db, g;
};

/* SDM Vol 3A §3.4.5, decoded independently of the encoder under test. */
static struct desc decode(uint64_t d)
{
	return (struct desc){
		.base = (uint32_t)((d >> 16 & 0xffffff) | (d >> 56 & 0xff) << 24),
		.limit = (uint32_t)((d & 0xffff) | (d >> 48 & 0xf) << 16),
		.type = d >> 40 & 0xf, .s = d >> 44 & 1, .dpl = d >> 45 & 3, .p = d >> 47 & 1,
		.l = d >> 53 & 1, .db = d >> 54 & 1, .g = d >> 55 & 1,
	};
}

static void assert_matches(struct desc d, const struct boot_segment *s)
{
	assert_int_equal(d.base, s->base);
	assert_int_equal(((uint64_t)d.limit << 12) | 0xfff, s->limit);
	assert_int_equal(d.type, s->type);
	assert_int_equal(d.s, s->s);
	assert_int_equal(d.dpl, s->dpl);
	assert_int_equal(d.p, s->present);
	assert_int_equal(d.l, s->l);
	assert_int_equal(d.db, s->db);
	assert_int_equal(d.g, s->g);
}

static void gdt_segments(void **state)
{
	struct fx *f = *state;
	const uint8_t *gdt = f->ram + LAYOUT_GDT;
	struct desc cs, ds;

	assert_int_equal(load(f, NULL, 0, ""), 0);
	assert_int_equal(f->e.gdt_base, LAYOUT_GDT);
	assert_int_equal(f->e.gdt_limit, 4 * 8 - 1);
	assert_int_equal(rd64(gdt), 0);
	assert_int_equal(rd64(gdt + 0x10), 0x00af9b000000ffffull);
	assert_int_equal(rd64(gdt + 0x18), 0x00cf93000000ffffull);

	cs = decode(rd64(gdt + 0x10));
	assert_true(cs.l == 1 && cs.db == 0 && cs.s == 1 && cs.p == 1 && (cs.type & 0x8));
	assert_matches(cs, &f->e.cs);
	assert_int_equal(f->e.cs.selector, 0x10);

	ds = decode(rd64(gdt + 0x18));
	assert_true(ds.l == 0 && ds.db == 1 && ds.s == 1 && ds.p == 1 && !(ds.type & 0x8));
	assert_true(ds.type & 0x2);
	assert_matches(ds, &f->e.ds);
	assert_int_equal(f->e.ds.selector, 0x18);
}

static void initial_registers(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, NULL, 0, ""), 0);
	assert_int_equal(f->e.rip, LAYOUT_HIMEM + 0x200);
	assert_int_equal(f->e.rsi, LAYOUT_ZERO_PAGE);
	assert_int_equal(f->e.rflags, 0x2);
	assert_true(f->e.cr0 & X86_CR0_PE);
	assert_true(f->e.cr0 & X86_CR0_PG);
	assert_true(f->e.cr0 & X86_CR0_ET);
	assert_false(f->e.cr0 & (X86_CR0_CD | X86_CR0_NW));
	assert_int_equal(f->e.cr3, LAYOUT_PML4);
	assert_true(f->e.cr4 & X86_CR4_PAE);
	assert_int_equal(f->e.efer, (1u << 8) | (1u << 10));	/* LME | LMA */
	assert_true(f->e.rsp > LAYOUT_GDT + 32 && f->e.rsp <= LAYOUT_ZERO_PAGE);
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	long n;

	if (!fp)
		return -errno;
	if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
		fclose(fp);
		return -EIO;
	}
	*buf = malloc((size_t)n);
	*len = *buf ? fread(*buf, 1, (size_t)n, fp) : 0;
	fclose(fp);
	return *buf && *len == (size_t)n ? 0 : -EIO;
}

/* Only when scripts/kernel has cached the test bed's kernel (tests run from the top). */
static void real_kernel(void **state)
{
	const uint64_t ram_size = 512 * MiB;	/* a distribution kernel's init_size is tens of MiB */
	const struct boot_extra x = { .kernel_name = "vmlinuz" };
	struct boot_params *bp;
	struct guest_mem m;
	struct boot_entry e;
	uint8_t *img = NULL, *ram;
	size_t len = 0;
	glob_t g;

	(void)state;
	if (glob("build/cache/kernel/*/boot/vmlinuz-*", 0, NULL, &g) != 0) {
		globfree(&g);
		skip();
		return;
	}
	assert_int_equal(read_file(g.gl_pathv[0], &img, &len), 0);
	assert_int_equal(boot_check_bzimage(img, len, g.gl_pathv[0]), 0);
	ram = calloc(1, ram_size);
	assert_non_null(ram);
	guest_mem_layout(&m, ram, ram_size);
	assert_int_equal(boot_load_linux(&m, img, len, NULL, 0, "console=ttyS0", &x, &e), 0);
	bp = (struct boot_params *)(ram + LAYOUT_ZERO_PAGE);
	assert_true(bp->hdr.version >= 0x020c);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_string_equal((char *)ram + LAYOUT_CMDLINE, "console=ttyS0");
	free(ram);
	free(img);
	globfree(&g);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(load_valid_image),
		T(load_initrd_below_addr_max),
		T(load_without_initrd_or_cmdline),
		T(rejects_broken_images),
		T(setup_sects_zero_means_four),
		T(cmdline_too_long),
		T(initrd_too_large),
		T(ram_too_small_for_init_size),
		cmocka_unit_test(e820_256m),
		cmocka_unit_test(e820_4g),
		cmocka_unit_test(e820_at_lowmem_max),
		cmocka_unit_test(e820_errors),
		T(page_tables_map_4g),
		T(gdt_segments),
		T(initial_registers),
		cmocka_unit_test(real_kernel),
	};
#undef T
	return cmocka_run_group_tests_name("boot", tests, NULL, NULL);
}
