/*
 * sluice: does a guest-programmed MSI land on this guest's own local APICs?
 * Formats: Intel SDM vol 3A §11.11.1 (address) and §11.11.2 (data).
 *
 * The rule: refuse every field that changes where or how the interrupt
 * lands unless it is the plain thing a PCI function sends (fixed or
 * lowest-priority delivery, a real vector, edge, one of our APIC IDs); ignore
 * what the SDM calls don't-care (address bits 1:0) or reserved in the data
 * word, since neither the LAPIC nor KVM reads those.
 */
#include <inttypes.h>
#include <stdio.h>

#include "irqremap/irqremap.h"
#include "vmm/log.h"

/* §11.11.1 */
#define MSI_ADDR_BASE_SHIFT	20
#define MSI_ADDR_BASE		0xfeeu		/* bits 31:20 */
#define MSI_ADDR_DEST_SHIFT	12		/* bits 19:12: destination ID */
#define MSI_ADDR_RESERVED	0x00000fe0u	/* bits 11:5 */
#define MSI_ADDR_REMAPPABLE	(1u << 4)	/* VT-d: "Interrupt Format" bit */
#define MSI_ADDR_DM_LOGICAL	(1u << 2)	/* bit 3 is RH; either value is fine */
#define MSI_DEST_BROADCAST	0xffu
/* §11.11.2 */
#define MSI_DATA_VECTOR(d)	((d) & 0xffu)
#define MSI_DATA_DELIVERY(d)	(((d) >> 8) & 7u)
#define MSI_DATA_LEVEL_TRIGGER	(1u << 15)
#define MSI_VECTOR_MIN		16	/* §11.5.2: 0-15 raise an illegal-vector error */

enum { DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_EXTINT = 7 };

static unsigned msi_dest(const struct msi_msg *m)
{
	return (m->addr_lo >> MSI_ADDR_DEST_SHIFT) & 0xffu;
}

/*
 * Delivery modes a device may use: fixed and lowest-priority only.
 * SMI and INIT would let a device enter SMM or reset a vCPU; ExtINT asks the
 * vCPU for a vector from an 8259A the device is not. NMI is refused too: it
 * is unmaskable and carries no vector, so a device (an untrusted party: its
 * firmware is not the guest's) could storm a vCPU the guest cannot shield,
 * and no mainstream OS programs a PCI function for NMI delivery (Linux
 * composes only fixed MSIs, arch/x86/kernel/apic/msi.c). 3 and 6 are reserved.
 */
static bool delivery_ok(unsigned dm)
{
	return dm == DM_FIXED || dm == DM_LOWEST;
}

/*
 * Physical mode names one APIC ID; ours are 0..nr_cpus-1 and 0xff is the
 * xAPIC broadcast (every vCPU of this guest). Logical mode is matched against
 * each vCPU's LDR/DFR, which the guest itself programs and changes at run
 * time; KVM only ever delivers within this VM, so any logical destination
 * reaches a subset of the guest's own vCPUs, possibly none. RH (bit 3) only
 * turns delivery into lowest-priority within the same set.
 */
static bool dest_ok(const struct msi_msg *m, unsigned nr_cpus)
{
	unsigned dest = msi_dest(m);

	if (!nr_cpus)
		return false;	/* a guest with no vCPU takes no interrupt */
	if (m->addr_lo & MSI_ADDR_DM_LOGICAL)
		return true;
	return dest == MSI_DEST_BROADCAST || dest < nr_cpus;
}

enum msi_verdict msi_check(const struct msi_msg *m, unsigned nr_cpus)
{
	/* xAPIC messages are 32-bit; KVM reads address_hi only in x2APIC format. */
	if (m->addr_hi)
		return MSI_BAD_ADDR_HI;
	if (m->addr_lo >> MSI_ADDR_BASE_SHIFT != MSI_ADDR_BASE)
		return MSI_BAD_WINDOW;
	if (m->addr_lo & MSI_ADDR_REMAPPABLE)
		return MSI_BAD_REMAPPABLE;
	/* KVM_FEATURE_MSI_EXT_DEST_ID puts APIC ID bits 14:8 here; ours fit in 8. */
	if (m->addr_lo & MSI_ADDR_RESERVED)
		return MSI_BAD_ADDR_RESERVED;
	if (!delivery_ok(MSI_DATA_DELIVERY(m->data)))
		return MSI_BAD_DELIVERY;
	if (MSI_DATA_VECTOR(m->data) < MSI_VECTOR_MIN)
		return MSI_BAD_VECTOR;
	/* PCI Local Bus 3.0 §6.8: a message is a posted write, an edge; no deassert follows. */
	if (m->data & MSI_DATA_LEVEL_TRIGGER)
		return MSI_BAD_TRIGGER;
	if (!dest_ok(m, nr_cpus))
		return MSI_BAD_DEST;
	return MSI_OK;
}

const char *msi_verdict_name(enum msi_verdict v)
{
	static const char *const names[] = {
		[MSI_OK] = "ok",
		[MSI_BAD_ADDR_HI] = "address above 4 GiB",
		[MSI_BAD_WINDOW] = "outside the local APIC window",
		[MSI_BAD_REMAPPABLE] = "remappable format",
		[MSI_BAD_ADDR_RESERVED] = "reserved address bits",
		[MSI_BAD_DELIVERY] = "delivery mode",
		[MSI_BAD_VECTOR] = "illegal vector",
		[MSI_BAD_TRIGGER] = "level-triggered",
		[MSI_BAD_DEST] = "destination",
	};

	if ((unsigned)v >= ARRAY_SIZE(names) || !names[v])
		return "unknown";
	return names[v];
}

static const char *delivery_name(unsigned dm)
{
	static const char *const names[8] = {
		"fixed", "lowest-priority", "SMI", "reserved (3)",
		"NMI", "INIT", "reserved (6)", "ExtINT",
	};

	return names[dm & 7];
}

/* The part after "<bdf> entry <n> (APIC vector <v>): ". */
static void explain(char *buf, size_t len, const struct msi_msg *m, unsigned nr_cpus,
		    enum msi_verdict v)
{
	switch (v) {
	case MSI_OK:
		snprintf(buf, len, "MSI to %s destination 0x%x accepted",
			 m->addr_lo & MSI_ADDR_DM_LOGICAL ? "logical" : "physical", msi_dest(m));
		break;
	case MSI_BAD_ADDR_HI:
		snprintf(buf, len, "MSI address 0x%08" PRIx32 "%08" PRIx32
			 " is above 4 GiB, where no local APIC listens; dropped", m->addr_hi, m->addr_lo);
		break;
	case MSI_BAD_WINDOW:
		snprintf(buf, len, "MSI address 0x%08" PRIx32
			 " is outside the local APIC window; dropped", m->addr_lo);
		break;
	case MSI_BAD_REMAPPABLE:
		snprintf(buf, len, "MSI address 0x%08" PRIx32 " uses the remappable format (bit 4),"
			 " but the guest has no IOMMU; dropped", m->addr_lo);
		break;
	case MSI_BAD_ADDR_RESERVED:
		snprintf(buf, len, "MSI address 0x%08" PRIx32
			 " sets reserved bits 11:5 (extended destination ID); dropped", m->addr_lo);
		break;
	case MSI_BAD_DELIVERY:
		snprintf(buf, len, "delivery mode %s is not allowed from a device; dropped",
			 delivery_name(MSI_DATA_DELIVERY(m->data)));
		break;
	case MSI_BAD_VECTOR:
		snprintf(buf, len, "vectors 0-15 are illegal for a local APIC; dropped");
		break;
	case MSI_BAD_TRIGGER:
		snprintf(buf, len, "level-triggered MSI, but PCI messages are edges; dropped");
		break;
	case MSI_BAD_DEST:
		snprintf(buf, len, "physical destination APIC ID %u is not one of the guest's %u vCPUs;"
			 " dropped", msi_dest(m), nr_cpus);
		break;
	}
}

enum msi_verdict msi_check_explain(char *buf, size_t len, const char *bdf, unsigned entry,
				   const struct msi_msg *m, unsigned nr_cpus)
{
	enum msi_verdict v = msi_check(m, nr_cpus);
	int n;

	if (!len)
		return v;
	n = snprintf(buf, len, "%s entry %u (APIC vector %" PRIu32 "): ", bdf, entry,
		     MSI_DATA_VECTOR(m->data));
	if (n >= 0 && (size_t)n < len)
		explain(buf + n, len - (size_t)n, m, nr_cpus, v);
	return v;
}
