/*
 * sluice: is the host's interrupt remapping on, and does VFIO insist on it?
 * Pure: parsers over file text and the verdict. host_probe.c reads the files.
 *
 * The rule. What the kernel does decides, what the hardware could do only
 * shapes the advice:
 *   1. /proc/interrupts lists an interrupt on an "IR-" chip (IR-IO-APIC,
 *      IR-PCI-MSI, IR-PCI-MSIX-<bdf>): remapping is on. x86 enables it for
 *      all or none (Linux drivers/iommu/irq_remapping.c); plain PCI-MSI lines
 *      next to IR ones are normal (AMD-Vi's own interrupt is one).
 *   2. Else it lists IO-APIC or PCI-MSI* chips: remapping is off.
 *   3. Else (unreadable, or nothing to tell by): unknown, treated as off.
 * The DMAR ECAP.IR bit (VT-d §11.4.3) or an AMD IVHD unit under
 * /sys/class/iommu says whether turning it on is a kernel matter or a
 * hardware one. Finally, allow_unsafe_interrupts=Y overrides everything:
 * vfio_iommu_type1 then attaches a group whose MSIs are not remapped, and
 * one global reading cannot prove that every group is covered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqremap/irqremap.h"

#define VTD_ECAP_IR	(1ull << 3)

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

static void classify_chip(const char *chip, size_t len, struct irq_host_facts *f)
{
	if (starts(chip, len, "IR-"))
		f->ir_lines++;
	else if (starts(chip, len, "IO-APIC") || starts(chip, len, "PCI-MSI"))
		f->plain_lines++;
}

/*
 * "<irq>: <count per CPU>... <chip> <hwirq> <name>" (fs/proc/interrupts.c,
 * kernel/irq/proc.c show_interrupts). Lines labelled NMI, LOC... have no
 * chip, and the free-text name at the end is never looked at.
 */
static void parse_line(const char *p, const char *end, struct irq_host_facts *f)
{
	const char *tok;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	tok = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == tok || p == end || *p != ':')
		return;
	p++;
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return;
		tok = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		if (strspn(tok, "0123456789") < (size_t)(p - tok))
			break;
	}
	classify_chip(tok, (size_t)(p - tok), f);
}

void irq_host_parse_interrupts(const char *text, struct irq_host_facts *f)
{
	const char *p = text;

	f->proc_read = true;
	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);

		parse_line(p, end, f);
		p = nl ? nl + 1 : end;
	}
}

/* sysfs prints the register with "%llx\n" (drivers/iommu/intel/iommu.c). */
int irq_host_parse_ecap(const char *text, bool *ir)
{
	unsigned long long ecap;
	char *end;

	if (!text || !*text || *text == '-' || *text == ' ')
		return -EINVAL;
	errno = 0;
	ecap = strtoull(text, &end, 16);
	if (errno || end == text || (*end && strcmp(end, "\n")))
		return -EINVAL;
	*ir = ecap & VTD_ECAP_IR;
	return 0;
}

/* param_get_bool prints "Y" or "N"; accept what param_set_bool takes too. */
int irq_host_parse_param(const char *text, bool *on)
{
	if (!text || !*text || (text[1] && strcmp(text + 1, "\n")))
		return -EINVAL;
	switch (text[0]) {
	case 'Y': case 'y': case '1':
		*on = true;
		return 0;
	case 'N': case 'n': case '0':
		*on = false;
		return 0;
	}
	return -EINVAL;
}

#define ALLOW_UNSAFE_HINT "or pass --allow-unsafe-interrupts knowingly"

static void advise_off(const struct irq_host_facts *f, char *msg, size_t len)
{
	if (f->ir_capable > 0)
		snprintf(msg, len, "host: interrupt remapping is off although %s supports it:"
			 " remove intremap=off from the kernel command line and check"
			 " `dmesg | grep -i remapping` for why it was disabled; " ALLOW_UNSAFE_HINT,
			 f->unit);
	else if (f->ir_capable == 0)
		snprintf(msg, len, "host: interrupt remapping is off and %s cannot remap"
			 " interrupts: enable it in the firmware setup (VT-d / AMD-Vi"
			 " interrupt remapping), or use a host that has it; " ALLOW_UNSAFE_HINT,
			 f->unit);
	else
		snprintf(msg, len, "host: interrupt remapping is off and no IOMMU is active"
			 " (/sys/class/iommu is empty): enable VT-d or AMD-Vi in the firmware"
			 " setup and boot with intel_iommu=on or amd_iommu=on; " ALLOW_UNSAFE_HINT);
}

static void advise_unknown(const struct irq_host_facts *f, char *msg, size_t len)
{
	snprintf(msg, len, "host: cannot tell whether interrupt remapping is on (%s),"
		 " so sluice treats it as off: check that /proc is mounted and that the"
		 " host boots with VT-d or AMD-Vi interrupt remapping; " ALLOW_UNSAFE_HINT,
		 f->proc_read ? "/proc/interrupts lists no IO-APIC or PCI-MSI interrupt"
			      : "/proc/interrupts is unreadable");
}

enum irq_host_verdict irq_host_judge(const struct irq_host_facts *f, char *msg, size_t len)
{
	bool on = f->ir_lines > 0;

	if (f->unsafe) {
		snprintf(msg, len, "host: vfio_iommu_type1 allow_unsafe_interrupts is Y%s, so VFIO"
			 " assigns devices whose interrupts are not remapped: set it to N"
			 " (/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
			 " and your modprobe.d options); " ALLOW_UNSAFE_HINT,
			 on ? "" : " and interrupt remapping is not on");
		return IRQ_HOST_UNSAFE_ALLOWED;
	}
	if (on) {
		snprintf(msg, len, "host: interrupt remapping is on (%u interrupts on IR- chips)",
			 f->ir_lines);
		return IRQ_HOST_OK;
	}
	if (f->plain_lines) {
		advise_off(f, msg, len);
		return IRQ_HOST_NO_REMAPPING;
	}
	advise_unknown(f, msg, len);
	return IRQ_HOST_UNKNOWN;
}
