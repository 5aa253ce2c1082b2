/* sluice: the CPUID a vCPU sees (see vmm/cpuid.h). */
#include "vmm/cpuid.h"

/*
 * Each vCPU sees KVM's supported set with its own topology: its APIC ID in
 * leaf 1 EBX[31:24] and leaf 0xB/0x1F EDX, the logical CPU count in leaf 1
 * EBX[23:16] (SDM vol. 2A, CPUID), and the hypervisor bit so the guest looks
 * for KVM's paravirtual leaves (kvm-clock). The TSC-deadline timer too: without
 * it a guest calibrates its LAPIC timer against the PIT, and under load (a
 * nested bed) the calibration fails ("APIC timer disabled due to verification
 * failure"), leaving the guest's clock events on the PIT: two writes to port
 * 0x40 (in-kernel PIT, but a VM exit each) every time it sets its next timer.
 * That was bench-net's VF path's 8.6 PIO exits per request under sluice where
 * QEMU (which sets the bit) took 0.04; with the bit, 0.04 under sluice too.
 */
void cpuid_for_vcpu(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus, bool deadline)
{
	unsigned i;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0xffff) | (id << 24) | ((ncpus & 0xff) << 16);
			e->ecx |= CPUID_1_ECX_HYPERVISOR | (deadline ? CPUID_1_ECX_TSC_DEADLINE : 0);
			if (ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;
			break;
		}
	}
}
