/*
 * sluice: the VMM's run-phase seccomp allowlist (libseccomp; anything else
 * kills the whole process with SIGSYS).
 *
 * It covers what runs after jail_enter: the vCPU threads (KVM_RUN and the
 * PIO/MMIO devices they call), the main event loop (console, signalfd,
 * masked vectors, VFIO's request interrupt), the virtio workers, and the
 * teardown after the vCPUs stop (vm_destroy, the passthrough release up to
 * the bindings, virtio detach, vhost reset, --stats). Everything the VM
 * needs is opened before: nothing here opens a file or a socket, execs,
 * mounts, changes ids, traces, or makes executable memory.
 *
 * glibc underneath: pthread_create tries clone3 first (answered ENOSYS, so
 * it falls back to clone, whose flags a filter can read) and then each new
 * thread registers rseq and its robust list; malloc uses brk, mmap, mremap,
 * mprotect, madvise and munmap; pthread_kill is tgkill(getpid(), tid).
 *
 * Left out on purpose, because only setup calls them (before jail_enter):
 * VHOST_GET_FEATURES and VHOST_SET_MEM_TABLE (vhost_net_open and the
 * device's attach), KVM_GET/SET_REGS, SREGS and LAPIC (vCPU creation and
 * the boot entry), VFIO_DEVICE_GET_*_INFO.
 *
 * VFIO_IOMMU_MAP_DMA (the guest's MAP requests under --viommu) is
 * _IO(VFIO_TYPE, VFIO_BASE + 13), the same number as VFIO_DEVICE_PCI_HOT_RESET
 * (VFIO numbers its ioctls per fd type): one rule serves both, and a filter,
 * which sees numbers and not fds, could not keep one and refuse the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <linux/vhost.h>

#include "sandbox/jail.h"
#include "vmm/log.h"

enum rule_kind {
	R_ALLOW,	/* any arguments */
	R_NO_EXEC,	/* argument 2 (prot) without PROT_EXEC */
	R_THREAD,	/* argument 0 (flags) has CLONE_THREAD and no namespace flag */
	R_OWN_PID,	/* argument 0 is this process's pid */
	R_EMPTY_PATH,	/* argument 3 (flags) has AT_EMPTY_PATH: an fd, not a path */
	R_FCNTL,	/* argument 1 is .arg: one fcntl command */
	R_ARG0,		/* argument 0 is .arg: one prctl option */
	R_IOCTL,	/* argument 1's low 32 bits are .arg: one ioctl request */
	R_ENOSYS,	/* fails with ENOSYS, not a kill */
};

struct rule {
	int nr;
	enum rule_kind kind;
	uint64_t arg;
	const char *why;
};

#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

#define SYS(name, kind, why)	{ SCMP_SYS(name), kind, 0, why }
#define FCNTL(cmd, why)		{ SCMP_SYS(fcntl), R_FCNTL, cmd, why }
#define IOCTL(req, why)		{ SCMP_SYS(ioctl), R_IOCTL, (uint64_t)(req), why }

static const struct rule rules[] = {
	/* I/O on fds the VMM already holds */
	SYS(read, R_ALLOW, "eventfds (stop, kicks, masked vectors), signalfd, console, TAP RX, pipes"),
	SYS(write, R_ALLOW, "eventfds (stop, calls, UART room), COM1 to the console, stderr, crash pipe"),
	SYS(readv, R_ALLOW, "no caller today; I/O on an fd already open, as read"),
	SYS(writev, R_ALLOW, "virtio-net TX to the TAP (virtio_net.c), stdio"),
	SYS(pread64, R_ALLOW, "VFIO regions: trapped BARs, config space (vfio/device.c); --stats"),
	SYS(pwrite64, R_ALLOW, "VFIO regions: trapped BARs, config space (vfio/device.c)"),
	SYS(preadv, R_ALLOW, "virtio-blk reads (virtio_blk.c)"),
	SYS(pwritev, R_ALLOW, "virtio-blk writes (virtio_blk.c)"),
	SYS(fdatasync, R_ALLOW, "virtio-blk flush (virtio_blk.c)"),
	SYS(fsync, R_ALLOW, "no caller today; a flush of an fd already open, as fdatasync"),
	SYS(lseek, R_ALLOW, "stdio seeks a read stream it flushes or closes"),
	SYS(close, R_ALLOW, "teardown: every fd of the VM and its devices"),
	SYS(fstat, R_ALLOW, "stdio sizes a buffered stream's first buffer (a printf to stdout)"),
	SYS(newfstatat, R_EMPTY_PATH, "glibc's fstat is fstatat(fd, \"\", AT_EMPTY_PATH)"),
	FCNTL(F_GETFL, "console fds: reading O_NONBLOCK"),
	FCNTL(F_SETFL, "console fds: setting O_NONBLOCK"),
	FCNTL(F_GETFD, "fd flags, e.g. stdio"),
	FCNTL(F_SETFD, "FD_CLOEXEC"),
	/* waiting */
	SYS(epoll_wait, R_ALLOW, "the main loop (evloop.c) and each virtio worker (virtio_pci.c)"),
	SYS(epoll_pwait, R_ALLOW, "epoll_wait where libc uses the pwait form"),
	SYS(epoll_ctl, R_ALLOW, "watch changes: console, masked vectors, TAP RX (msix_route.c, virtio_net.c)"),
	SYS(epoll_create1, R_ALLOW, "no run-time caller today; an anonymous fd, nothing on the host"),
	SYS(eventfd2, R_ALLOW, "no run-time caller today; an anonymous fd, nothing on the host"),
	SYS(poll, R_ALLOW, "COM1 waits for a non-blocking console to take a byte (serial.c)"),
	SYS(ppoll, R_ALLOW, "poll where libc uses the ppoll form"),
	SYS(futex, R_ALLOW, "pthread mutexes, rwlocks, conds, joins"),
	SYS(clock_nanosleep, R_ALLOW, "usleep/nanosleep (no run-time caller today)"),
	SYS(nanosleep, R_ALLOW, "nanosleep where libc uses the old call"),
	SYS(clock_gettime, R_ALLOW, "the vDSO's fallback when the clocksource has none (the TCG bed)"),
	SYS(gettimeofday, R_ALLOW, "the same fallback for gettimeofday"),
	SYS(sched_yield, R_ALLOW, "no caller today; gives up the CPU, nothing more"),
	SYS(restart_syscall, R_ALLOW, "the kernel restarts a sleep a signal interrupted"),
	/* threads */
	SYS(clone, R_THREAD, "vm_start's vCPU threads (vcpu.c): threads only, never a process"),
	SYS(clone3, R_ENOSYS, "glibc tries it first; its flags sit in memory a filter cannot read"),
	SYS(set_robust_list, R_ALLOW, "every new thread (glibc start_thread)"),
	SYS(rseq, R_ALLOW, "every new thread registers restartable sequences (glibc >= 2.35)"),
	SYS(exit, R_ALLOW, "a thread ends (vCPU at vm_join, virtio worker at detach)"),
	SYS(exit_group, R_ALLOW, "the VMM ends; the crash handler's _exit"),
	SYS(getpid, R_ALLOW, "pthread_kill and raise send to getpid()"),
	SYS(gettid, R_ALLOW, "raise targets the calling thread by its kernel tid"),
	{ SCMP_SYS(prctl), R_ARG0, PR_SET_NAME, "a virtio worker names itself as it starts, maybe after the filter (virtio_pci.c)" },
	SYS(sched_getaffinity, R_ALLOW, "ASan builds: pthread_getattr_np in each new thread"),
	/* signals */
	SYS(rt_sigaction, R_ALLOW, "vcpu_start installs the kick handler (SIGUSR1)"),
	SYS(rt_sigprocmask, R_ALLOW, "vCPU threads unblock the kick; pthread_create, pthread_kill"),
	SYS(rt_sigreturn, R_ALLOW, "return from the kick handler"),
	SYS(sigaltstack, R_ALLOW, "ASan builds: an alternate signal stack per thread"),
	SYS(tgkill, R_OWN_PID, "vcpu_kick (pthread_kill), abort/raise: this process's threads only"),
	/* memory */
	SYS(brk, R_ALLOW, "malloc's main arena"),
	SYS(mmap, R_NO_EXEC, "malloc, thread stacks; never executable"),
	SYS(mprotect, R_NO_EXEC, "thread stack guards, malloc arenas; never executable"),
	SYS(mremap, R_ALLOW, "realloc of a large block (--stats buffer); keeps its protection"),
	SYS(munmap, R_ALLOW, "free, thread stacks; teardown: guest RAM, kvm_run, VFIO regions"),
	SYS(madvise, R_ALLOW, "a thread's stack freed at its end; malloc trimming"),
	/* KVM */
	IOCTL(KVM_RUN, "the vCPU loop (vcpu.c)"),
	IOCTL(KVM_IRQ_LINE, "COM1's interrupt line (vm.c serial_set_irq)"),
	IOCTL(KVM_IRQFD, "irqfds on and off as vectors are (un)masked (irqremap/irqfd.c, msix_route.c)"),
	IOCTL(KVM_SET_GSI_ROUTING, "a guest-programmed MSI/MSI-X message becomes a route (irqremap/route.c)"),
	IOCTL(KVM_IOEVENTFD, "virtio doorbells on queue enable, reset and BAR moves (virtio_pci.c)"),
	IOCTL(KVM_SET_USER_MEMORY_REGION, "passthrough BAR memslots when the guest moves a BAR (vm.c, vfio/bar.c)"),
	IOCTL(KVM_GET_STATS_FD, "--stats after the run (stats.c): an anonymous fd"),
	/* VFIO */
	IOCTL(VFIO_DEVICE_SET_IRQS, "MSI/MSI-X/INTx follow the guest's config writes; off at teardown (vfio/irq.c)"),
	IOCTL(VFIO_DEVICE_RESET, "the reset before the device is given back (vfio/device.c)"),
	IOCTL(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, "the bus-reset fallback at teardown (vfio/device.c)"),
	IOCTL(VFIO_DEVICE_PCI_HOT_RESET, "the bus-reset fallback at teardown (vfio/device.c); the "
	      "same number is VFIO_IOMMU_MAP_DMA: --viommu's guest MAPs (vfio/viommu_backend.c)"),
	IOCTL(VFIO_IOMMU_UNMAP_DMA, "teardown: guest RAM out of the IOMMU (iommu/type1.c); --viommu: "
	      "the guest's UNMAPs (vfio/viommu_backend.c)"),
	/* vhost-net: DRIVER_OK starts the rings, a reset stops them (vhost_net.c) */
	IOCTL(VHOST_SET_FEATURES, "DRIVER_OK: the features the driver took"),
	IOCTL(VHOST_SET_VRING_NUM, "DRIVER_OK: ring size"),
	IOCTL(VHOST_SET_VRING_BASE, "DRIVER_OK: ring start index"),
	IOCTL(VHOST_SET_VRING_ADDR, "DRIVER_OK: ring addresses"),
	IOCTL(VHOST_SET_VRING_KICK, "DRIVER_OK: doorbell eventfd; reset: -1"),
	IOCTL(VHOST_SET_VRING_CALL, "DRIVER_OK: call eventfd; reset: -1"),
	IOCTL(VHOST_SET_VRING_ERR, "DRIVER_OK: error eventfd; reset: -1"),
	IOCTL(VHOST_NET_SET_BACKEND, "DRIVER_OK: the TAP; reset: -1"),
	IOCTL(VHOST_GET_VRING_BASE, "reset: waits until vhost stops touching the ring"),
	/* TAP (tap.c) */
	IOCTL(TUNSETOFFLOAD, "DRIVER_OK: the offloads the driver took; reset: none (the monitor gives the TAP back)"),
	/* the terminal is the monitor's (vmm/cli/run.c); stdio may still ask isatty */
	IOCTL(TCGETS, "isatty (stdio)"),
};

static struct scmp_arg_cmp cmp(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int add_rule(scmp_filter_ctx ctx, const struct rule *r, pid_t pid)
{
	const uint32_t allow = SCMP_ACT_ALLOW;

	switch (r->kind) {
	case R_ALLOW:
		return seccomp_rule_add(ctx, allow, r->nr, 0);
	case R_NO_EXEC:
		return seccomp_rule_add(ctx, allow, r->nr, 1, cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case R_THREAD:
		return seccomp_rule_add(ctx, allow, r->nr, 1,
					cmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_NS_FLAGS, CLONE_THREAD));
	case R_OWN_PID:
		return seccomp_rule_add(ctx, allow, r->nr, 1, cmp(0, SCMP_CMP_EQ, (uint64_t)pid, 0));
	case R_EMPTY_PATH:
		return seccomp_rule_add(ctx, allow, r->nr, 1,
					cmp(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	case R_FCNTL:
		return seccomp_rule_add(ctx, allow, r->nr, 1, cmp(1, SCMP_CMP_EQ, r->arg, 0));
	case R_ARG0:
		return seccomp_rule_add(ctx, allow, r->nr, 1, cmp(0, SCMP_CMP_EQ, r->arg, 0));
	case R_IOCTL:
		/* The kernel takes the request as an unsigned int: compare what it compares. */
		return seccomp_rule_add(ctx, allow, r->nr, 1,
					cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, r->arg & 0xffffffffu));
	case R_ENOSYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), r->nr, 0);
	}
	return -EINVAL;
}

_Static_assert(VFIO_IOMMU_MAP_DMA == VFIO_DEVICE_PCI_HOT_RESET, "one rule allows both (see the top)");

static int build(scmp_filter_ctx ctx)
{
	pid_t pid = getpid();
	unsigned i;
	int err;

	/* A 32-bit (int 0x80) or x32 call would dodge the table: kill it too. */
	if ((err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) ||
	    (err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) ||
	    (err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)))
		return err;
	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		err = add_rule(ctx, &rules[i], pid);
		if (err) {
			pr_err("seccomp: rule %u (syscall %d, %s): %s", i, rules[i].nr, rules[i].why,
			       strerror(-err));
			return err;
		}
	}
	return 0;
}

int jail_seccomp_apply(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int err;

	if (!ctx)
		return -ENOMEM;
	err = build(ctx);
	/* TSYNC: the virtio workers exist already; every thread gets the filter or none does. */
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}
