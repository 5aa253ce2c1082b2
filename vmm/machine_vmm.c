/*
 * sluice: the VMM's side of a machine (vmm/machine.h). It starts as the
 * monitor's forked child holding exactly the fds the monitor opened, builds
 * the VM from them while it still may (KVM_CREATE_VM, guest RAM, the IOMMU
 * mapping, VHOST_SET_OWNER, device regions), enters its jail, and only then
 * starts the vCPUs. It undoes only what it did itself; what it inherited
 * closes when it exits, and the monitor gives the host back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vfio/viommu_backend.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/machine.h"
#include "vmm/vm.h"

/*
 * The ACPI tables describe the PCI bus as built, so they are written once every
 * device is on it (the VIOT names BDFs); the guest runs nothing before vm_start.
 */
static int load_acpi(struct vm *vm, struct machine *m)
{
	const struct machine_config *c = m->cfg;
	struct acpi_config acfg = acpi_config_for(c->cpus, c->memory);
	void *acpi = guest_mem_ptr(&vm->mem, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	unsigned i;
	int err;

	if (!acpi)
		return -ENOMEM;
	if (m->viommu.vp) {
		acfg.viot.iommu_bdf = viommu_dev_bdf(&m->viommu);
		acfg.viot.nr_endpoints = m->viommu.v.p.nr_endpoints;
		/* Endpoint IDs are 32-bit, VIOT BDFs 16-bit: one by one, not memcpy. */
		for (i = 0; i < acfg.viot.nr_endpoints; i++)
			acfg.viot.endpoint_bdf[i] = (uint16_t)m->viommu.v.p.endpoint[i];
	}
	err = acpi_build(acpi, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &acfg, NULL);
	if (err)
		pr_err("%s: building ACPI tables: %s", vm->name, strerror(-err));
	return err;
}

/* --viommu: the assigned devices behind a virtio-iommu whose MAPs go to each one's VFIO container. */
static int attach_viommu(struct vm *vm, struct machine *m)
{
	struct passthrough *pt = &m->pt;
	const struct iommu_info *info[VFIO_MAX_DEVS];
	struct viommu_params p;
	uint16_t bdf[VIOMMU_BACKEND_MAX_DEVS];
	char why[256];
	unsigned i;
	int err;

	if (!m->cfg->viommu)
		return 0;
	for (i = 0; i < pt->nr_attached && i < VIOMMU_BACKEND_MAX_DEVS; i++)
		bdf[i] = (uint16_t)(pt->devs[i]->pci.slot << 3);
	for (i = 0; i < pt->nr_groups; i++)
		info[i] = &pt->groups[i].iommu.info;
	err = viommu_vfio_params(info, pt->nr_groups, bdf, pt->nr_attached, &p, why, sizeof(why));
	if (err) {
		pr_err("%s: %s", vm->name, why);
		return err;
	}
	err = viommu_dev_attach(&m->viommu, vm, &p, &viommu_vfio_ops, pt);
	for (i = 0; !err && i < pt->nr_attached; i++)
		pr_info("%s: %s behind the virtio-iommu at %s (a VFIO container of its own)", vm->name,
			pt->devs[i]->pci.bdf, m->viommu.vp->pci.bdf);
	return err;
}

static int load_guest(struct vm *vm, struct machine *m)
{
	const struct machine_config *c = m->cfg;
	/* The RSDP is always at LAYOUT_ACPI (acpi_build); load_acpi writes it later. */
	struct boot_extra x = { .kernel_name = c->kernel, .initrd_name = c->initrd,
				.rsdp_gpa = LAYOUT_ACPI };
	struct boot_entry entry;
	int err;

	err = boot_load_linux(&vm->mem, m->kernel.p, m->kernel.len, m->initrd.p, m->initrd.len,
			      c->cmdline, &x, &entry);
	/* The images live in guest RAM now; the VMM keeps no copy. */
	if (m->initrd.p)
		munmap(m->initrd.p, m->initrd.len);
	munmap(m->kernel.p, m->kernel.len);
	m->initrd.p = m->kernel.p = NULL;
	return err ? err : vm_set_boot_entry(vm, &entry);
}

struct console {
	struct vm *vm;
	const struct machine_console *cfg;
	struct ev_watch in, room;
	uint8_t pending[256];
	size_t npending;
};

/* While bytes wait for room in the UART's FIFO, stop reading the console. */
static void console_flush(struct console *c)
{
	size_t n = serial_rx(&c->vm->com1, c->pending, c->npending);

	memmove(c->pending, c->pending + n, c->npending - n);
	c->npending -= n;
	ev_mod(&c->vm->ev, &c->in, c->npending ? 0 : EPOLLIN);
	ev_mod(&c->vm->ev, &c->room, c->npending ? EPOLLIN : 0);
}

/* Read the console, apply the input filter (the escape key), feed the UART what it takes. */
static void console_input(struct ev_watch *w, uint32_t events)
{
	struct console *c = w->opaque;
	enum machine_key k;
	uint8_t buf[64], out;
	ssize_t n, i;

	(void)events;
	n = read(w->fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			ev_del(&c->vm->ev, w);	/* end of input: the guest runs on */
		return;
	}
	for (i = 0; i < n; i++) {
		out = buf[i];
		k = c->cfg->key ? c->cfg->key(c->cfg->opaque, buf[i], &out) : MACHINE_KEY_SEND;
		if (k == MACHINE_KEY_SEND) {
			c->pending[c->npending++] = out;
		} else if (k == MACHINE_KEY_QUIT) {
			vm_request_stop(c->vm, VM_STOP_QUIT);
			return;
		} else if (k == MACHINE_KEY_HELP && c->cfg->help) {
			fputs(c->cfg->help, stderr);
		}
	}
	if (c->npending)
		console_flush(c);
}

static void console_room(struct ev_watch *w, uint32_t events)
{
	struct console *c = w->opaque;
	uint64_t v;

	(void)events;
	if (read(w->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	console_flush(c);
}

struct host_signals {
	struct ev_watch w;
	struct vm *vm;
	int signo;
};

static void on_signal(struct ev_watch *w, uint32_t events)
{
	struct host_signals *hs = w->opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (!hs->signo)
		hs->signo = (int)si.ssi_signo;
	vm_request_stop(hs->vm, VM_STOP_SIGNAL);
}

static void on_stop(struct ev_watch *w, uint32_t events)
{
	(void)w;
	(void)events;
}

/* The main thread: console, host signals and device fds, until the VM stops. */
static int main_loop(struct vm *vm, const struct machine_console *con, int sfd)
{
	struct console c = { .vm = vm, .cfg = con };
	struct host_signals hs = { .vm = vm };
	struct ev_watch stop = { .fd = vm->stop_fd, .fn = on_stop };
	int err;

	c.in = (struct ev_watch){ .fd = con->in_fd, .fn = console_input, .opaque = &c };
	c.room = (struct ev_watch){ .fd = serial_rx_room_fd(&vm->com1), .fn = console_room, .opaque = &c };
	hs.w = (struct ev_watch){ .fd = sfd, .fn = on_signal, .opaque = &hs };
	if ((err = ev_add(&vm->ev, &stop, EPOLLIN)) || (err = ev_add(&vm->ev, &hs.w, EPOLLIN)) ||
	    (err = ev_add(&vm->ev, &c.room, 0)))
		return err;
	/* The input may be a file or /dev/null, which epoll refuses: then there is none. */
	ev_add(&vm->ev, &c.in, EPOLLIN);
	while (atomic_load(&vm->stop) == VM_RUNNING)
		if ((err = ev_run_once(&vm->ev, -1)))
			break;
	ev_del(&vm->ev, &c.in);
	ev_del(&vm->ev, &c.room);
	ev_del(&vm->ev, &hs.w);
	ev_del(&vm->ev, &stop);
	return err ? err : hs.signo;
}

static int exit_status(const struct vm *vm, enum vm_stop why, int signo)
{
	switch (why) {
	case VM_STOP_POWEROFF:
		return MACHINE_EXIT_OK;
	case VM_STOP_RESET:
		pr_info("%s: guest rebooted (exit status %d)", vm->name, MACHINE_EXIT_RESET);
		return MACHINE_EXIT_RESET;
	case VM_STOP_PANIC:
		pr_info("%s: guest kernel panicked (exit status %d)", vm->name, MACHINE_EXIT_PANIC);
		return MACHINE_EXIT_PANIC;
	case VM_STOP_QUIT:
		pr_info("%s: quit from the console", vm->name);
		return MACHINE_EXIT_QUIT;
	case VM_STOP_SIGNAL:
		pr_info("%s: stopped by signal %d (%s)", vm->name, signo, strsignal(signo));
		return 128 + signo;
	default:
		return MACHINE_EXIT_FAIL;
	}
}

/* Jail, vCPUs, the main loop until the VM stops; the exit status. */
static int run(struct vm *vm, struct machine *m, int sfd)
{
	enum vm_stop why;
	int signo = 0, err;

	err = jail_enter(&m->jail, m->cfg->name);
	if (!err)
		err = vm_start(vm);
	if (!err)
		signo = main_loop(vm, &m->cfg->console, sfd);
	why = vm_join(vm);
	if (m->cfg->stats)
		vm_print_stats(vm);
	if (err || signo < 0)
		return MACHINE_EXIT_FAIL;
	return exit_status(vm, why, signo);
}

/* The VMM reads SIGINT/SIGTERM/SIGHUP (the monitor forwards them) from a signalfd of its own. */
static int vmm_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int vmm_run(struct machine *m)
{
	const struct machine_config *c = m->cfg;
	struct vm_config vcfg = {
		.name = c->name, .nr_cpus = c->cpus, .mem_size = c->memory,
		.hugepages = c->hugepages, .console_fd = c->console.out_fd,
	};
	struct vm vm;
	int sfd, err, status = MACHINE_EXIT_FAIL;

	sfd = vmm_signals();
	if (sfd < 0) {
		pr_err("%s: signals: %s", c->name, strerror(errno));
		return MACHINE_EXIT_FAIL;
	}
	err = vm_create(&vm, m->kvm_fd, &vcfg);	/* the VM owns kvm_fd from here */
	if (err)
		goto out_close;
	err = load_guest(&vm, m);
	if (err) {
		status = err == -ENOMEM || err == -E2BIG || err == -ENOSPC ? MACHINE_EXIT_USAGE : MACHINE_EXIT_FAIL;
		goto out_destroy;
	}
	if (virtio_devs_attach(&m->pv, &vm))
		goto out_destroy;
	if (passthrough_attach(&m->pt, &vm))
		goto out_virtio;
	if (!attach_viommu(&vm, m)) {
		if (!load_acpi(&vm, m))
			status = run(&vm, m, sfd);
		/* Teardown unmaps everything the guest mapped, before the devices go. */
		viommu_dev_detach(&m->viommu);
	}
	passthrough_detach(&m->pt);
out_virtio:
	virtio_devs_detach(&m->pv);
out_destroy:
	vm_destroy(&vm);
out_close:
	close(sfd);
	return status;
}

void machine_vmm_main(struct machine *m)
{
	prctl(PR_SET_NAME, "sluice-vmm");	/* ps and the test bed tell it from the monitor */
	_exit(vmm_run(m));
}
