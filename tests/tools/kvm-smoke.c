/*
 * kvm-smoke: prove /dev/kvm runs a guest. A real-mode guest writes 0x42 to
 * port 0x10 and halts; exit 0 only when both exits arrive as expected.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static const uint8_t code[] = {
	0xb0, 0x42,		/* mov al, 0x42 */
	0xe6, 0x10,		/* out 0x10, al */
	0xf4,			/* hlt */
};

static int fail(const char *what)
{
	fprintf(stderr, "kvm-smoke: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	struct kvm_userspace_memory_region slot = { .guest_phys_addr = 0x1000, .memory_size = 0x1000 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_run *run;
	int kvm, vm, vcpu, mmap_size;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return fail("KVM_GET_API_VERSION");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	memcpy(mem, code, sizeof(code));
	slot.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0x1000;
	sregs.cs.selector = 0x100;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_(S)REGS");

	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail("KVM_RUN 1");
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10 ||
	    *((uint8_t *)run + run->io.data_offset) != 0x42) {
		fprintf(stderr, "kvm-smoke: first exit %u, want KVM_EXIT_IO to port 0x10 with 0x42\n",
			run->exit_reason);
		return 1;
	}
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail("KVM_RUN 2");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "kvm-smoke: second exit %u, want KVM_EXIT_HLT\n", run->exit_reason);
		return 1;
	}
	printf("kvm-smoke: guest ran: out 0x42 to port 0x10, then hlt\n");
	return 0;
}
