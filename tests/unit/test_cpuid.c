/* cmocka: the CPUID a vCPU sees (vmm/cpuid.c), on a plain copy of a supported set. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vmm/cpuid.h"

#define NENT 5

struct set {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 e[NENT];
};

/* A supported set as KVM hands it out: leaf 1 with KVM's own APIC ID and count
 * in EBX[31:16] and no TSC-deadline bit (before Linux 6.14), topology leaves,
 * and a paravirtual leaf that must pass through untouched. */
static void supported(struct set *s)
{
	static const struct kvm_cpuid_entry2 sup[NENT] = {
		{ .function = 0, .eax = 0x1f, .ebx = 0x68747541 },
		{ .function = 1, .eax = 0x830f10, .ebx = 0xff7f0800, .ecx = 0x7ed8320b, .edx = 0x078bfbff },
		{ .function = 0xb, .index = 0, .eax = 1, .ebx = 1, .ecx = 0x100, .edx = 0x77 },
		{ .function = 0x1f, .index = 1, .eax = 4, .ebx = 2, .ecx = 0x201, .edx = 0x77 },
		{ .function = 0x40000001, .eax = 0x01007afb, .edx = 0x77 },
	};

	memset(s, 0, sizeof(*s));
	s->hdr.nent = NENT;
	memcpy(s->e, sup, sizeof(sup));
}

static void test_deadline_advertised_when_kvm_has_it(void **state)
{
	struct set s;

	(void)state;
	supported(&s);
	cpuid_for_vcpu(&s.hdr, 0, 1, true);
	assert_true(s.e[1].ecx & CPUID_1_ECX_TSC_DEADLINE);
	assert_true(s.e[1].ecx & CPUID_1_ECX_HYPERVISOR);
	/* the rest of ECX as KVM gave it */
	assert_int_equal(s.e[1].ecx & ~(CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_HYPERVISOR),
			 0x7ed8320bu & ~(CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_HYPERVISOR));
}

static void test_deadline_not_claimed_without_kvm(void **state)
{
	struct set s;

	(void)state;
	supported(&s);
	cpuid_for_vcpu(&s.hdr, 0, 1, false);
	assert_false(s.e[1].ecx & CPUID_1_ECX_TSC_DEADLINE);
	assert_true(s.e[1].ecx & CPUID_1_ECX_HYPERVISOR);
}

static void test_topology_per_vcpu(void **state)
{
	struct set s;

	(void)state;
	supported(&s);
	cpuid_for_vcpu(&s.hdr, 3, 4, true);
	assert_int_equal(s.e[1].ebx >> 24, 3);
	assert_int_equal((s.e[1].ebx >> 16) & 0xff, 4);
	assert_int_equal(s.e[1].ebx & 0xffff, 0x0800);	/* CLFLUSH size, brand index kept */
	assert_true(s.e[1].edx & CPUID_1_EDX_HTT);
	assert_int_equal(s.e[2].edx, 3);
	assert_int_equal(s.e[3].edx, 3);
}

static void test_one_vcpu_no_htt_and_others_untouched(void **state)
{
	struct set s, before;

	(void)state;
	supported(&s);
	supported(&before);
	s.e[1].edx &= ~CPUID_1_EDX_HTT;
	cpuid_for_vcpu(&s.hdr, 0, 1, true);
	assert_false(s.e[1].edx & CPUID_1_EDX_HTT);
	assert_int_equal((s.e[1].ebx >> 16) & 0xff, 1);
	assert_memory_equal(&s.e[0], &before.e[0], sizeof(s.e[0]));
	assert_memory_equal(&s.e[4], &before.e[4], sizeof(s.e[4]));
	assert_int_equal(s.e[2].eax, before.e[2].eax);
	assert_int_equal(s.e[2].ecx, before.e[2].ecx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_advertised_when_kvm_has_it),
		cmocka_unit_test(test_deadline_not_claimed_without_kvm),
		cmocka_unit_test(test_topology_per_vcpu),
		cmocka_unit_test(test_one_vcpu_no_htt_and_others_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
