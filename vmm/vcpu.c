/* sluice: vCPUs: CPUID, MSRs, LAPIC, boot registers and the run loop. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/boot.h"
#include "vmm/cpuid.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

/* MSR numbers (Intel SDM vol. 4; AMD APM vol. 2 for the syscall ones) */
#define MSR_IA32_TSC		0x010
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MISC_ENABLE_FAST_STRING	(1ull << 0)

/* Local APIC registers (SDM vol. 3 §11.5.1) */
#define APIC_LVT_LINT0		0x350
#define APIC_LVT_LINT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

/* KVM's supported CPUID, edited for this vCPU (vmm/cpuid.c says what and why). */
static int set_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *sup = v->vm->cpuid;
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	bool deadline = ioctl(v->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	int err = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, sup, sz);
	cpuid_for_vcpu(c, v->id, v->vm->topo_cpus, deadline);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		err = -errno;
	free(c);
	return err;
}

static int set_msrs(struct vcpu *v)
{
	static const struct { uint32_t index; uint64_t data; } boot[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_TSC, 0 }, { MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[ARRAY_SIZE(boot)];
	} m;
	unsigned i;
	int n;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = ARRAY_SIZE(boot);
	for (i = 0; i < ARRAY_SIZE(boot); i++) {
		m.e[i].index = boot[i].index;
		m.e[i].data = boot[i].data;
	}
	n = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (n < 0)
		return -errno;
	if ((unsigned)n != ARRAY_SIZE(boot))
		pr_warn("%s: vCPU %u: KVM refused MSR %#x", v->vm->name, v->id, m.e[n].index);
	return 0;
}

static void lvt_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t *p = (uint32_t *)(void *)&l->regs[reg];

	*p = (*p & ~0x700u) | (mode << 8);
}

/* LINT0 takes the 8259's ExtINT, LINT1 the NMI, as a PC's firmware leaves them. */
static int set_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;

	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lvt_mode(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lvt_mode(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned id)
{
	int err;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		err = -errno;
		pr_err("%s: KVM_CREATE_VCPU %u: %s", vm->name, id, strerror(errno));
		return err;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		err = -errno;
		v->run = NULL;
		goto err_close;
	}
	if ((err = set_cpuid(v)) || (err = set_msrs(v)) || (err = set_lapic(v))) {
		pr_err("%s: vCPU %u setup: %s", vm->name, id, strerror(-err));
		goto err_unmap;
	}
	return 0;

err_unmap:
	munmap(v->run, vm->run_size);
	v->run = NULL;
err_close:
	close(v->fd);
	v->fd = -1;
	return err;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->vm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void seg_to_kvm(struct kvm_segment *k, const struct boot_segment *s)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector, .type = s->type,
		.present = s->present, .dpl = s->dpl, .db = s->db, .s = s->s, .l = s->l, .g = s->g,
	};
}

int vm_set_boot_entry(struct vm *vm, const struct boot_entry *e)
{
	struct vcpu *v = &vm->vcpus[0];
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = e->rip, .rsi = e->rsi, .rsp = e->rsp, .rflags = e->rflags,
	};

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_to_kvm(&sregs.cs, &e->cs);
	seg_to_kvm(&sregs.ds, &e->ds);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = e->gdt_base;
	sregs.gdt.limit = e->gdt_limit;
	sregs.cr0 = e->cr0;
	sregs.cr3 = e->cr3;
	sregs.cr4 = e->cr4;
	sregs.efer = e->efer;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void exit_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	uint32_t i;

	for (i = 0; i < r->io.count; i++, data += r->io.size)
		bus_access(&v->vm->pio, r->io.port, data, r->io.size,
			   r->io.direction == KVM_EXIT_IO_OUT);
}

static enum vm_stop system_event(const struct kvm_run *r)
{
	switch (r->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return VM_STOP_POWEROFF;
	case KVM_SYSTEM_EVENT_RESET:
		return VM_STOP_RESET;
	case KVM_SYSTEM_EVENT_CRASH:
		return VM_STOP_PANIC;
	default:
		return VM_RUNNING;
	}
}

/* One exit; returns the stop reason it implies, VM_RUNNING to go on. */
static enum vm_stop handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		v->user_io++;
		exit_io(v);
		return VM_RUNNING;
	case KVM_EXIT_MMIO:
		v->user_mmio++;
		bus_access(&v->vm->mmio, r->mmio.phys_addr, r->mmio.data, r->mmio.len,
			   r->mmio.is_write);
		return VM_RUNNING;
	case KVM_EXIT_SHUTDOWN:	/* triple fault: a PC resets */
		pr_info("%s: vCPU %u: triple fault, treated as a reset", v->vm->name, v->id);
		return VM_STOP_RESET;
	case KVM_EXIT_SYSTEM_EVENT:
		return system_event(r);
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		return VM_RUNNING;
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("%s: vCPU %u: VM entry failed, hardware reason %#llx", v->vm->name, v->id,
		       (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		return VM_STOP_ERROR;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("%s: vCPU %u: KVM internal error, suberror %u", v->vm->name, v->id,
		       r->internal.suberror);
		return VM_STOP_ERROR;
	default:
		pr_err("%s: vCPU %u: unexpected exit reason %u", v->vm->name, v->id, r->exit_reason);
		return VM_STOP_ERROR;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	enum vm_stop why = VM_RUNNING;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (why == VM_RUNNING && atomic_load(&v->vm->stop) == VM_RUNNING) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_err("%s: vCPU %u: KVM_RUN: %s", v->vm->name, v->id, strerror(errno));
			why = VM_STOP_ERROR;
			break;
		}
		why = handle_exit(v);
	}
	if (why != VM_RUNNING)
		vm_request_stop(v->vm, why);
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_start(struct vcpu *v)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	int err;

	/* No SA_RESTART: the kick must make KVM_RUN return EINTR. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	err = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (err) {
		pr_err("%s: starting vCPU %u: %s", v->vm->name, v->id, strerror(err));
		return -err;
	}
	v->started = true;
	return 0;
}

/* Make a running KVM_RUN return now; immediate_exit closes the race with entry. */
void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	v->run->immediate_exit = 1;
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}
