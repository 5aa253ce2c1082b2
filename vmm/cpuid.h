/*
 * sluice: the CPUID a vCPU sees: KVM's supported set (KVM_GET_SUPPORTED_CPUID)
 * edited for this vCPU's topology and for what the in-kernel LAPIC emulates.
 */
#ifndef SLUICE_CPUID_H
#define SLUICE_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>

#define CPUID_1_ECX_TSC_DEADLINE	(1u << 24)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_1_EDX_HTT		(1u << 28)

/*
 * cpuid_for_vcpu: edit @c (a copy of KVM's supported set) in place for vCPU
 * @id of @ncpus; @deadline: KVM_CAP_TSC_DEADLINE_TIMER, which the set omits
 * before Linux 6.14 though the in-kernel LAPIC emulates it.
 */
void cpuid_for_vcpu(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus, bool deadline);

#endif
