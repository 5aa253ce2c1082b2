/* sluice: the monitor's side of a machine: check, take, spawn, wait, give back (vmm/machine.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/boot.h"
#include "vmm/log.h"
#include "vmm/machine.h"
#include "vmm/vm.h"

/* Map a whole file read-only; 0 or -errno with a message naming it. */
static int map_image(const char *path, const char *what, struct machine_image *f)
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

static void unmap_image(struct machine_image *f)
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

/* What the host's KVM and RAM allow. */
static int check_host(const struct machine_config *c, int kvm_fd)
{
	int max = vm_max_cpus(kvm_fd);
	uint64_t total = meminfo_kib("MemTotal") << 10;

	if (c->cpus > (unsigned)max) {
		pr_err("%s: --cpus %u: this host's KVM allows at most %d vCPUs", c->name, c->cpus, max);
		return -EINVAL;
	}
	if (total && c->memory > total) {
		pr_err("%s: --memory %llu MiB is more than this host's %llu MiB of RAM: give less", c->name,
		       (unsigned long long)(c->memory >> 20), (unsigned long long)(total >> 20));
		return -EINVAL;
	}
	if (c->hugepages) {
		uint64_t free_kib = meminfo_kib("HugePages_Free") * meminfo_kib("Hugepagesize");

		if (free_kib << 10 < c->memory) {
			pr_err("%s: --hugepages: %llu MiB of free hugepages, %llu MiB needed: "
			       "raise /proc/sys/vm/nr_hugepages", c->name,
			       (unsigned long long)(free_kib >> 10), (unsigned long long)(c->memory >> 20));
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * From here on SIGINT/SIGTERM/SIGHUP and the VMM's end are read from a
 * signalfd, so no signal can cut a host change short. The VMM inherits the
 * mask (its vCPU threads unblock only SIGUSR1, their kick).
 */
static int block_signals(struct machine *m)
{
	sigset_t set, mask;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	mask = set;
	sigaddset(&mask, SIGUSR1);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) ||
	    (m->sig_fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		pr_err("%s: signals: %s", m->cfg->name, strerror(errno));
		return -errno;
	}
	return 0;
}

static int check_images(struct machine *m)
{
	const struct machine_config *c = m->cfg;
	struct boot_extra x = { .kernel_name = c->kernel, .initrd_name = c->initrd };

	if (map_image(c->kernel, "kernel", &m->kernel) ||
	    boot_check_bzimage(m->kernel.p, m->kernel.len, c->kernel) ||
	    (c->initrd && map_image(c->initrd, "initrd", &m->initrd)))
		return -EINVAL;
	return boot_check_fit(c->memory, m->kernel.p, m->kernel.len, m->initrd.len, c->cmdline, &x);
}

/* --assign devices in full; for --net vf: what can be known before a VF is picked. */
static int check_assign(struct machine *m)
{
	const struct machine_config *c = m->cfg;
	unsigned i;
	int err;

	if (c->nr_assign + c->nr_vfs > MACHINE_MAX_ASSIGN) {
		pr_err("%s: %u --assign and %u --net vf: at most %d devices can be assigned to one VM",
		       c->name, c->nr_assign, c->nr_vfs, MACHINE_MAX_ASSIGN);
		return -E2BIG;
	}
	for (i = 0; i < c->nr_assign; i++)
		if (vfio_resolve("/sys", c->assign[i], m->bdf[i]))
			return -EINVAL;
	for (i = 0; i < c->nr_vfs; i++)
		if ((err = sriov_vf_check("/sys", BIND_RUNDIR, &c->vf[i])))
			return err;
	err = vfio_check("/sys", BIND_RUNDIR, m->bdf, c->nr_assign, c->memory,
			 c->allow_unsafe_interrupts, c->viommu);
	/* Behind the virtio-iommu each device has a container, and each may pin all RAM. */
	if (!err && c->nr_vfs && !c->nr_assign)
		err = vfio_check_host(c->viommu ? c->nr_vfs * c->memory : c->memory,
				      c->allow_unsafe_interrupts);
	return err;
}

static void set_bdf(char dst[16], const char *src)
{
	size_t n = strnlen(src, 15);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Phase 3, first: pick and set up each --net vf: VF (sriov/, recorded before
 * each change); then the checks only a picked VF allows (its group, its
 * holder), over the whole set. A refusal gives the VFs back: exit 2.
 */
static int claim_vfs(struct machine *m)
{
	const struct machine_config *c = m->cfg;
	int err;

	for (; m->nr_claimed < c->nr_vfs; m->nr_claimed++) {
		err = sriov_vf_claim("/sys", BIND_RUNDIR, &c->vf[m->nr_claimed], c->name,
				     &m->vf[m->nr_claimed]);
		if (err)
			return err == -EINVAL || err == -EBUSY || err == -EOPNOTSUPP || err == -ENODEV ||
			       err == -ERANGE ? MACHINE_EXIT_USAGE : MACHINE_EXIT_FAIL;
		set_bdf(m->bdf[c->nr_assign + m->nr_claimed], m->vf[m->nr_claimed].bdf);
	}
	if (c->nr_vfs && vfio_check("/sys", BIND_RUNDIR, m->bdf, c->nr_assign + c->nr_vfs, c->memory,
				    c->allow_unsafe_interrupts, c->viommu))
		return MACHINE_EXIT_USAGE;
	return 0;
}

int machine_check(struct machine *m, const struct machine_config *cfg)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->kvm_fd = m->sig_fd = -1;
	passthrough_init(&m->pt, cfg->name);
	m->pt.viommu = cfg->viommu;
	if ((err = block_signals(m)) || (err = check_images(m)) || (err = check_assign(m)))
		goto err_give_back;
	m->kvm_fd = kvm_open_checked();
	if (m->kvm_fd < 0) {
		err = m->kvm_fd;
		goto err_give_back;
	}
	if ((err = check_host(cfg, m->kvm_fd)))
		goto err_give_back;
	/* Images opened and locked, /dev/vhost-net opened, TAP names checked: no host change. */
	if ((err = virtio_devs_open(&m->pv, &cfg->dev)))
		goto err_give_back;
	m->pv_open = true;
	if ((err = jail_check(&m->jail, &cfg->jail, cfg->name)))
		goto err_give_back;
	return 0;

err_give_back:
	machine_give_back(m);
	return err ? err : -EINVAL;
}

int machine_take(struct machine *m)
{
	const struct machine_config *c = m->cfg;
	unsigned i;
	int err;

	if ((err = claim_vfs(m)))
		return err;
	for (i = 0; i < c->nr_assign + c->nr_vfs; i++) {
		err = passthrough_open(&m->pt, m->bdf[i]);
		if (err)
			return err == -EBUSY || err == -ESTALE ? MACHINE_EXIT_USAGE : MACHINE_EXIT_FAIL;
	}
	if (virtio_devs_take(&m->pv))
		return MACHINE_EXIT_FAIL;
	if (jail_prepare(&m->jail))
		return MACHINE_EXIT_FAIL;
	m->jail_ready = true;
	return 0;
}

/* The VMM's fds; the jail keeps its own pipes and 0-2 besides. */
static int vmm_keep_fds(struct machine *m)
{
	int fds[3 + PASSTHROUGH_MAX_FDS + VIRTIO_DEVS_MAX_FDS];
	unsigned n = 0;

	fds[n++] = m->kvm_fd;
	fds[n++] = m->cfg->console.in_fd;
	fds[n++] = m->cfg->console.out_fd;
	n += passthrough_fds(&m->pt, fds + n);
	n += virtio_devs_fds(&m->pv, fds + n);
	return jail_close_fds(&m->jail, fds, n);
}

/* What only the VMM needs: once it has its copies, the monitor keeps only what it gives back. */
static void drop_vmm_fds(struct machine *m)
{
	passthrough_drop_fds(&m->pt);
	virtio_devs_drop_vmm_fds(&m->pv);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
	m->kvm_fd = -1;
	unmap_image(&m->initrd);
	unmap_image(&m->kernel);
}

int machine_spawn(struct machine *m)
{
	pid_t pid = jail_spawn(&m->jail);

	if (pid < 0) {
		pr_err("%s: starting the VMM: %s", m->cfg->name, strerror((int)-pid));
		return (int)pid;
	}
	if (pid == 0) {
		if (vmm_keep_fds(m) || jail_drop_bounding(&m->jail))
			_exit(MACHINE_EXIT_FAIL);
		machine_vmm_main(m);
	}
	m->vmm = pid;
	drop_vmm_fds(m);
	return 0;
}

/* The run's status from the VMM's wait status, with a message when it died. */
static int vmm_status(struct machine *m, int st)
{
	const char *name = m->cfg->name;
	int sig = jail_crash_signal(&m->jail);

	if (sig) {
		pr_err("%s: the VMM (pid %d) crashed: signal %d (%s); the host is given back", name,
		       (int)m->vmm, sig, strsignal(sig));
		return 128 + sig;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	sig = WTERMSIG(st);
	if (sig == SIGSYS)
		pr_err("%s: the VMM (pid %d) was killed by its seccomp filter (a system call outside "
		       "its allowlist: a bug, or a compromised device model); the host is given back",
		       name, (int)m->vmm);
	else
		pr_err("%s: the VMM (pid %d) was killed by signal %d (%s); the host is given back", name,
		       (int)m->vmm, sig, strsignal(sig));
	return 128 + sig;
}

int machine_reap(struct machine *m)
{
	pid_t r;
	int st;

	if (m->vmm <= 0)
		return -ECHILD;
	r = waitpid(m->vmm, &st, WNOHANG);
	if (r == 0)
		return -EAGAIN;
	if (r < 0)
		return -errno;
	st = vmm_status(m, st);
	m->vmm = 0;
	return st;
}

int machine_respawn(struct machine *m)
{
	const char *name = m->cfg->name;
	int err;

	if (m->vmm > 0)
		return -EBUSY;
	if (m->cfg->dev.nr_disks) {
		/* The monitor closed the images after the first spawn; reopening would re-check them. */
		pr_err("%s: a machine with disks cannot be restarted", name);
		return -EOPNOTSUPP;
	}
	jail_release(&m->jail);		/* the dead VMM's pipes */
	m->jail_ready = false;
	err = check_images(m);
	if (!err && (m->kvm_fd = kvm_open_checked()) < 0)
		err = m->kvm_fd;
	if (!err && !(err = passthrough_reopen(&m->pt)) && !(err = virtio_devs_reopen(&m->pv)) &&
	    !(err = jail_prepare(&m->jail))) {
		m->jail_ready = true;
		err = machine_spawn(m);
	}
	if (err)	/* as before the attempt: a later one starts from the same place */
		drop_vmm_fds(m);
	return err;
}

int machine_wait(struct machine *m)
{
	struct signalfd_siginfo si;
	int st;

	for (;;) {
		if (read(m->sig_fd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			pr_err("%s: reading signals: %s; stopping the VMM", m->cfg->name, strerror(errno));
			kill(m->vmm, SIGKILL);
			si.ssi_signo = SIGCHLD;
		}
		if (si.ssi_signo != SIGCHLD) {
			if (!m->host_signal)
				m->host_signal = (int)si.ssi_signo;
			kill(m->vmm, (int)si.ssi_signo);
			continue;
		}
		st = machine_reap(m);
		if (st != -EAGAIN)
			return st < 0 ? MACHINE_EXIT_FAIL : st;
	}
}

void machine_give_back(struct machine *m)
{
	if (m->vmm > 0) {
		kill(m->vmm, SIGKILL);
		waitpid(m->vmm, NULL, 0);
		m->vmm = 0;
	}
	if (m->jail_ready)
		jail_release(&m->jail);
	m->jail_ready = false;
	if (m->pv_open)
		virtio_devs_close(&m->pv);
	m->pv_open = false;
	passthrough_give_back(&m->pt);
	while (m->nr_claimed)	/* after the bindings: the VF is off vfio-pci first */
		sriov_vf_release("/sys", BIND_RUNDIR, &m->vf[--m->nr_claimed]);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
	m->kvm_fd = -1;
	unmap_image(&m->initrd);
	unmap_image(&m->kernel);
	if (m->sig_fd >= 0)
		close(m->sig_fd);
	m->sig_fd = -1;
}
