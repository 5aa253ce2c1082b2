/* sluice: `sluice run`: check, create, load, run, tear down. */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio/vfio.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/commands.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/cli/run.h"
#include "vmm/cli/term.h"
#include "vmm/virtio/virtio_devs.h"
#include "vmm/vm.h"

struct file_map {
	void *p;
	size_t len;
};

/* Map a whole file read-only; 0 or -errno with a message naming it. */
static int map_file(const char *path, const char *what, struct file_map *f)
{
	struct stat st;
	int fd, err = 0;

	f->p = NULL;
	f->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("%s %s: %s: give the path of an existing, readable file", what, path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		pr_err("%s %s: not a regular, non-empty file", what, path);
		err = -EINVAL;
		goto out_close;
	}
	f->len = (size_t)st.st_size;
	f->p = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f->p == MAP_FAILED) {
		err = -errno;
		pr_err("%s %s: mmap: %s", what, path, strerror(errno));
		f->p = NULL;
	}
out_close:
	close(fd);
	return err;
}

static void unmap_file(struct file_map *f)
{
	if (f->p)
		munmap(f->p, f->len);
	f->p = NULL;
}

static uint64_t meminfo_kib(const char *key)
{
	char line[128];
	unsigned long long v = 0;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int kvm_open_checked(void)
{
	int fd = vm_kvm_open();

	if (fd == -ENOENT)
		pr_err("/dev/kvm does not exist: load kvm-intel or kvm-amd, and enable virtualization in the firmware");
	else if (fd == -EACCES || fd == -EPERM)
		pr_err("/dev/kvm: permission denied: run as root or join the group that owns /dev/kvm (usually 'kvm')");
	else if (fd < 0)
		pr_err("/dev/kvm: %s", strerror(-fd));
	return fd;
}

/* Everything a bad configuration can be caught by, before anything is created. */
static int check_host(const struct run_opts *o, int kvm_fd)
{
	int max = vm_max_cpus(kvm_fd);
	uint64_t total = meminfo_kib("MemTotal") << 10;

	if (o->cpus > (unsigned long)max) {
		pr_err("%s: --cpus %lu: this host's KVM allows at most %d vCPUs", o->name, o->cpus, max);
		return -EINVAL;
	}
	if (total && o->memory > total) {
		pr_err("%s: --memory %llu MiB is more than this host's %llu MiB of RAM: give less", o->name,
		       (unsigned long long)(o->memory >> 20), (unsigned long long)(total >> 20));
		return -EINVAL;
	}
	if (o->hugepages) {
		uint64_t free_kib = meminfo_kib("HugePages_Free") * meminfo_kib("Hugepagesize");

		if (free_kib << 10 < o->memory) {
			pr_err("%s: --hugepages: %llu MiB of free hugepages, %llu MiB needed: "
			       "raise /proc/sys/vm/nr_hugepages", o->name,
			       (unsigned long long)(free_kib >> 10), (unsigned long long)(o->memory >> 20));
			return -EINVAL;
		}
	}
	return 0;
}

static int load_guest(struct vm *vm, const struct run_opts *o, const struct file_map *kernel,
		      const struct file_map *initrd)
{
	struct acpi_config acfg = {
		.nr_cpus = (unsigned)o->cpus,
		.mmio64_base = layout_mmio64_base(o->memory),
		.mmio64_size = LAYOUT_MMIO64_SIZE,
	};
	struct boot_extra x = { .kernel_name = o->kernel, .initrd_name = o->initrd };
	struct boot_entry entry;
	void *acpi = guest_mem_ptr(&vm->mem, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	int err;

	if (!acpi)
		return -ENOMEM;
	err = acpi_build(acpi, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &acfg, &x.rsdp_gpa);
	if (err) {
		pr_err("%s: building ACPI tables: %s", vm->name, strerror(-err));
		return err;
	}
	err = boot_load_linux(&vm->mem, kernel->p, kernel->len, initrd->p, initrd->len, o->cmdline,
			      &x, &entry);
	if (err)
		return err;
	return vm_set_boot_entry(vm, &entry);
}

struct console {
	struct vm *vm;
	struct term *term;
	struct term_escape esc;
	struct ev_watch in, room;
	uint8_t pending[256];
	size_t npending;
};

/* While bytes wait for room in the UART's FIFO, stop reading the terminal. */
static void console_flush(struct console *c)
{
	size_t n = serial_rx(&c->vm->com1, c->pending, c->npending);

	memmove(c->pending, c->pending + n, c->npending - n);
	c->npending -= n;
	ev_mod(&c->vm->ev, &c->in, c->npending ? 0 : EPOLLIN);
	ev_mod(&c->vm->ev, &c->room, c->npending ? EPOLLIN : 0);
}

/* Read the terminal, apply the escape key, feed the UART what it takes. */
static void console_input(struct ev_watch *w, uint32_t events)
{
	struct console *c = w->opaque;
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
		switch (term_escape_feed(&c->esc, buf[i], &out)) {
		case TERM_SEND:
			c->pending[c->npending++] = out;
			break;
		case TERM_QUIT:
			vm_request_stop(c->vm, VM_STOP_QUIT);
			return;
		case TERM_HELP:
			fputs(term_escape_help, stderr);
			break;
		case TERM_NONE:
			break;
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
static int main_loop(struct vm *vm, struct term *term, int sfd)
{
	struct console c = { .vm = vm, .term = term };
	struct host_signals hs = { .vm = vm };
	struct ev_watch stop = { .fd = vm->stop_fd, .fn = on_stop };
	int err;

	c.in = (struct ev_watch){ .fd = term->fd, .fn = console_input, .opaque = &c };
	c.room = (struct ev_watch){ .fd = serial_rx_room_fd(&vm->com1), .fn = console_room, .opaque = &c };
	hs.w = (struct ev_watch){ .fd = sfd, .fn = on_signal, .opaque = &hs };
	if ((err = ev_add(&vm->ev, &stop, EPOLLIN)) || (err = ev_add(&vm->ev, &hs.w, EPOLLIN)) ||
	    (err = ev_add(&vm->ev, &c.room, 0)))
		return err;
	/* stdin may be a file or /dev/null, which epoll refuses: then there is no input. */
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
		return SLUICE_EXIT_OK;
	case VM_STOP_RESET:
		pr_info("%s: guest rebooted (exit status %d)", vm->name, RUN_EXIT_RESET);
		return RUN_EXIT_RESET;
	case VM_STOP_PANIC:
		pr_info("%s: guest kernel panicked (exit status %d)", vm->name, RUN_EXIT_PANIC);
		return RUN_EXIT_PANIC;
	case VM_STOP_QUIT:
		pr_info("%s: quit from the console", vm->name);
		return RUN_EXIT_QUIT;
	case VM_STOP_SIGNAL:
		pr_info("%s: stopped by signal %d (%s)", vm->name, signo, strsignal(signo));
		return 128 + signo;
	default:
		return SLUICE_EXIT_FAIL;
	}
}

/*
 * Host signals (@set: INT, TERM, HUP) are read from a signalfd by the main
 * thread. Every thread blocks them and the vCPU kick (vCPU threads inherit
 * the mask and unblock only the kick), but the signalfd takes only @set: a
 * stray SIGUSR1 is a harmless kick, never a stop.
 */
static int block_signals(sigset_t *set)
{
	sigset_t mask;

	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	mask = *set;
	sigaddset(&mask, SIGUSR1);
	signal(SIGPIPE, SIG_IGN);
	return -pthread_sigmask(SIG_BLOCK, &mask, NULL);
}

static int run_vm(struct vm *vm, int sfd, bool stats)
{
	struct term term;
	enum vm_stop why;
	int signo, err;

	term_init(&term, STDIN_FILENO);
	term_raw(&term);
	err = vm_start(vm);
	signo = err ? 0 : main_loop(vm, &term, sfd);
	why = vm_join(vm);
	term_restore(&term);
	if (stats)
		vm_print_stats(vm);
	if (err || signo < 0)
		return SLUICE_EXIT_FAIL;
	return exit_status(vm, why, signo);
}

static int status_of(int err)
{
	return err == -ENOEXEC || err == -ENOMEM || err == -E2BIG || err == -ENOSPC
		       ? SLUICE_EXIT_USAGE : SLUICE_EXIT_FAIL;
}

_Static_assert(RUN_MAX_ASSIGN == VFIO_MAX_DEVS, "--assign takes what passthrough holds");

/* Resolve every --assign before the VM exists: a typo costs nothing. */
static int resolve_assign(const struct run_opts *o, char (*bdfs)[16])
{
	unsigned i;

	for (i = 0; i < o->nr_assign; i++)
		if (vfio_resolve("/sys", o->assign[i], bdfs[i]))
			return -EINVAL;
	return 0;
}

/*
 * ---- SR-IOV (--net vf:PF): the lead's phases port these lines. ----
 * Phase 2 (vf_check_all): next to the other checks, host untouched.
 * Phase 3 (vf_claim_all): after every check, before the bindings; each
 * claimed VF joins @bdfs and goes through the --assign path (record, bind
 * to vfio-pci, ...). Phase 6 (vf_release_all): on every exit path, after
 * the bindings are given back.
 */
static int vf_check_all(const struct run_opts *o)
{
	unsigned i;
	int err;

	if (o->nr_assign + o->nr_vfs > RUN_MAX_ASSIGN) {
		pr_err("%s: %u --assign and %u --net vf: at most %d devices can be assigned to one VM",
		       o->name, o->nr_assign, o->nr_vfs, RUN_MAX_ASSIGN);
		return -E2BIG;
	}
	for (i = 0; i < o->nr_vfs; i++)
		if ((err = sriov_vf_check("/sys", BIND_RUNDIR, &o->vf[i])))
			return err;
	return 0;
}

static void vf_release_all(struct vf_claim *c, unsigned n)
{
	while (n--)
		sriov_vf_release("/sys", BIND_RUNDIR, &c[n]);
}

static int vf_claim_all(const struct run_opts *o, const char *vm, struct vf_claim *c,
			char (*bdfs)[16], unsigned *nr)
{
	unsigned i;
	int err;

	for (i = 0; i < o->nr_vfs; i++) {
		err = sriov_vf_claim("/sys", BIND_RUNDIR, &o->vf[i], vm, &c[i]);
		if (err) {
			vf_release_all(c, i);
			return err == -EINVAL || err == -EBUSY || err == -EOPNOTSUPP || err == -ENODEV ||
					       err == -ERANGE
				       ? SLUICE_EXIT_USAGE : SLUICE_EXIT_FAIL;
		}
		snprintf(bdfs[(*nr)++], 16, "%s", c[i].bdf);
	}
	return 0;
}
/* ---- end of SR-IOV ---- */

/* Check, then assign, every device; any failure undoes them all. */
static int assign_all(struct passthrough *pt, const struct run_opts *o, char (*bdfs)[16],
		      unsigned nr)
{
	unsigned i;
	int err;

	if (vfio_check("/sys", BIND_RUNDIR, bdfs, nr, pt->vm, o->allow_unsafe_interrupts))
		return SLUICE_EXIT_USAGE;
	for (i = 0; i < nr; i++) {
		err = passthrough_assign(pt, bdfs[i]);
		if (err) {
			passthrough_release(pt);
			return err == -EBUSY || err == -ESTALE ? SLUICE_EXIT_USAGE : SLUICE_EXIT_FAIL;
		}
	}
	return 0;
}

static int boot_and_run(struct vm *vm, const struct run_opts *o, struct file_map *kernel,
			struct file_map *initrd, char (*bdfs)[16], int sfd, struct virtio_devs *pv)
{
	struct vf_claim claims[RUN_MAX_NETS] = { { 0 } };	/* SR-IOV */
	struct passthrough pt;
	unsigned nr = o->nr_assign;
	int err, status;

	err = load_guest(vm, o, kernel, initrd);
	/* The images live in guest RAM now; sluice keeps no copy. */
	unmap_file(initrd);
	unmap_file(kernel);
	if (err)
		return status_of(err);
	if (virtio_devs_attach(pv, vm))
		return SLUICE_EXIT_FAIL;
	passthrough_init(&pt, vm);
	status = vf_claim_all(o, vm->name, claims, bdfs, &nr);	/* SR-IOV */
	if (!status)
		status = assign_all(&pt, o, bdfs, nr);
	if (!status) {
		status = run_vm(vm, sfd, o->stats);
		passthrough_release(&pt);
	}
	vf_release_all(claims, o->nr_vfs);	/* SR-IOV: after the bindings */
	virtio_devs_detach(pv);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct file_map kernel = { 0 }, initrd = { 0 };
	char bdfs[RUN_MAX_ASSIGN + RUN_MAX_NETS][16];
	struct run_opts o;
	struct vm vm;
	struct vm_config cfg;
	struct virtio_devs pv;
	sigset_t set;
	int kvm_fd, err, sfd, status = SLUICE_EXIT_USAGE;

	err = run_parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? SLUICE_EXIT_OK : SLUICE_EXIT_USAGE;
	/* From here on SIGINT/SIGTERM/SIGHUP only stop the VM: every exit path cleans up. */
	if (block_signals(&set) || (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		pr_err("%s: signals: %s", o.name, strerror(errno));
		return SLUICE_EXIT_FAIL;
	}
	if (map_file(o.kernel, "kernel", &kernel) ||
	    boot_check_bzimage(kernel.p, kernel.len, o.kernel) ||
	    (o.initrd && map_file(o.initrd, "initrd", &initrd)) || resolve_assign(&o, bdfs))
		goto out_unmap;
	kvm_fd = kvm_open_checked();
	if (kvm_fd < 0)
		goto out_unmap;
	/* Disk images, TAPs, /dev/vhost-net: opened before the VM, as the kernel and initrd. */
	if (check_host(&o, kvm_fd) || vf_check_all(&o) || virtio_devs_open(&pv, &o)) {
		close(kvm_fd);
		goto out_unmap;
	}
	cfg = (struct vm_config){
		.name = o.name, .nr_cpus = (unsigned)o.cpus, .mem_size = o.memory,
		.hugepages = o.hugepages, .console_fd = STDOUT_FILENO,
	};
	err = vm_create(&vm, kvm_fd, &cfg);
	if (err) {
		status = SLUICE_EXIT_FAIL;
		goto out_close_devs;
	}
	status = boot_and_run(&vm, &o, &kernel, &initrd, bdfs, sfd, &pv);
	vm_destroy(&vm);
out_close_devs:
	virtio_devs_close(&pv);
out_unmap:
	unmap_file(&initrd);
	unmap_file(&kernel);
	close(sfd);
	return status;
}
