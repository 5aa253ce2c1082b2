/*
 * sluice: loading a Linux bzImage with the x86 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst, protocol 2.15). Pure code over guest
 * RAM: it fills memory and describes the first vCPU's state, and the caller
 * applies that state with KVM_SET_SREGS/KVM_SET_REGS.
 *
 * Guest memory written (vmm/layout.h): GDT, zero page, page tables, command
 * line, the protected-mode kernel at LAYOUT_HIMEM and the initrd at the top
 * of low RAM.
 */
#ifndef SLUICE_BOOT_H
#define SLUICE_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct boot_e820_entry;		/* <asm/bootparam.h> */

/* Selectors the 64-bit boot protocol expects (boot.rst "64-bit Boot Protocol"). */
#define BOOT_SEL_CS	0x10	/* __BOOT_CS */
#define BOOT_SEL_DS	0x18	/* __BOOT_DS */
#define BOOT_GDT_ENTRIES 4	/* null, unused, code, data */

/* Most entries boot_build_e820() writes: low RAM, EBDA..1M, RAM, ECAM, high RAM. */
#define BOOT_E820_MAX	5

/* What the caller knows beyond the images. Every field may be zero. */
struct boot_extra {
	const char *kernel_name;	/* for messages; NULL: "kernel" */
	const char *initrd_name;	/* for messages; NULL: "initrd" */
	uint64_t rsdp_gpa;		/* boot_params.acpi_rsdp_addr; 0: the guest scans */
};

/*
 * A segment as KVM's struct kvm_segment wants it: limit in bytes (already
 * scaled by g), type/s/dpl/... as in the descriptor (SDM Vol 3A §3.4.5).
 */
struct boot_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g;
};

/* The first vCPU's state at the 64-bit entry point. ss/es/fs/gs = ds. */
struct boot_entry {
	uint64_t rip, rsi, rsp, rflags;
	uint64_t cr0, cr3, cr4, efer;
	struct boot_segment cs, ds;
	uint64_t gdt_base;
	uint16_t gdt_limit;
};

/*
 * Check that @img (@len bytes, from file @name) is a bzImage this loader
 * can start through the 64-bit entry. 0, or -ENOEXEC with a message.
 */
int boot_check_bzimage(const void *img, size_t len, const char *name);

/*
 * The e820 map for @ram_size bytes of guest RAM laid out as vmm/layout.h
 * says (guest_mem_layout()). Writes *nr entries, sorted, into @tab (room for
 * @max); 0, -EINVAL when RAM is too small to boot, -ENOSPC when @max is.
 */
int boot_build_e820(uint64_t ram_size, struct boot_e820_entry *tab, unsigned max,
		    unsigned *nr);

/*
 * Load bzImage @kernel and the optional @initrd (NULL or @ilen 0: none)
 * into @m, with command line @cmdline (NULL: empty), and describe the
 * initial vCPU state in @out. Checks everything before writing anything.
 * 0, or -ENOEXEC (image), -ENOMEM (RAM below the kernel's needs), -E2BIG
 * (command line), -ENOSPC (initrd does not fit), each with a message.
 */
int boot_load_linux(struct guest_mem *m, const void *kernel, size_t klen,
		    const void *initrd, size_t ilen, const char *cmdline,
		    const struct boot_extra *x, struct boot_entry *out);

/*
 * The same checks without guest RAM: would @kernel, an initrd of @ilen bytes
 * and @cmdline fit in @ram_size bytes? 0 or the error boot_load_linux() would
 * give, with its message. For refusing a configuration before the host is touched.
 */
int boot_check_fit(uint64_t ram_size, const void *kernel, size_t klen, size_t ilen,
		   const char *cmdline, const struct boot_extra *x);

#endif
