/*
 * sluice: the driver-VM supervisor (dvm.h): the monitor of a primary driver
 * VM and an optional warm spare. Single-threaded: one epoll over its signals,
 * each VMM's pidfd and each downlink's probe socket, woken every probe period.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/drivervm/dvm.h"
#include "sandbox/drivervm/supervisor.h"
#include "vmm/log.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- Setup: phase 2 for every slot, then phase 3, then the bridge ports ---- */

static void slot_config(struct sup *s, struct slot *sl, const char *dev)
{
	const struct dvm_config *c = s->c;
	struct machine_config *m = &sl->cfg;

	*m = (struct machine_config){
		.name = sl->name, .kernel = c->kernel, .initrd = c->initrd, .cmdline = s->cmdline,
		.cpus = 1, .memory = c->memory, .allow_unsafe_interrupts = c->allow_unsafe_interrupts,
		.jail = c->jail, .console = { .in_fd = -1, .out_fd = -1 },
	};
	if (!strncmp(dev, "vf:", 3)) {
		m->vf[0] = (struct vf_request){ .vlan = -1, .spoofchk = -1, .trust = -1, .rate = -1 };
		snprintf(m->vf[0].pf, sizeof(m->vf[0].pf), "%s", dev + 3);
		m->nr_vfs = 1;
	} else {
		m->assign[0] = dev;
		m->nr_assign = 1;
	}
	/* The downlink: one MAC and address for every driver VM, so a failover needs no consumer to learn anew. */
	m->dev.net[0] = (struct virtio_net_dev_config){ .has_mac = true, .vhost = true };
	memcpy(m->dev.net[0].mac, s->mac, sizeof(s->mac));
	m->dev.nr_nets = 1;
}

/* Refused devices exit 2 like --assign; so does a spare on the primary's own device. */
static int check_slots(struct sup *s)
{
	unsigned i;
	int err;

	for (i = 0; i < s->nr; i++) {
		struct slot *sl = &s->slot[i];

		slot_config(s, sl, sl->device);
		if ((err = machine_check(&sl->m, &sl->cfg)))
			return err;
		sl->checked = true;
	}
	if (s->nr == DVM_SLOTS && s->slot[0].cfg.nr_assign && s->slot[1].cfg.nr_assign &&
	    !strcmp(s->slot[0].m.bdf[0], s->slot[1].m.bdf[0])) {
		pr_err("%s: --spare %s is the primary's own device %s: give the spare another device "
		       "(another VF of the same PF: --spare vf:PF)", s->c->bridge, s->c->spare,
		       s->slot[0].m.bdf[0]);
		return -EINVAL;
	}
	return 0;
}

static int open_console(struct sup *s, struct slot *sl)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.console", s->c->rundir, sl->name);
	sl->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	sl->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sl->log_fd < 0 || sl->null_fd < 0) {
		pr_err("%s: console log %s: %s", sl->name, path, strerror(errno));
		return -errno;
	}
	sl->cfg.console.out_fd = sl->log_fd;
	sl->cfg.console.in_fd = sl->null_fd;
	return 0;
}

/* The downlink TAP: up, probed, and in the bridge for the active slot only. */
static int setup_port(struct sup *s, struct slot *sl, bool in_bridge)
{
	struct ifreq ifr = { 0 };
	const char *tap = sl->m.pv.net[0].tap.ifname;
	int err;

	sl->tap_ifindex = (int)if_nametoindex(tap);
	if (!sl->tap_ifindex)
		return -errno;
	sl->probe_fd = dvm_probe_open(sl->tap_ifindex);
	if (sl->probe_fd < 0) {
		pr_err("%s: probe socket on %s: %s", sl->name, tap, strerror(-sl->probe_fd));
		return sl->probe_fd;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	if (ioctl(sl->probe_fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	memcpy(sl->tap_mac, ifr.ifr_hwaddr.sa_data, 6);
	if ((err = sriov_nl_set_up(&s->nl, sl->tap_ifindex, true)) ||
	    (in_bridge && (err = sriov_nl_set_master(&s->nl, sl->tap_ifindex, s->br_ifindex)))) {
		pr_err("%s: %s into bridge %s: %s", sl->name, tap, s->c->bridge, strerror(-err));
		return err;
	}
	return ep_add(s, sl->probe_fd, EV_PROBE, sl->idx);
}

/* Phase 3 and the ports. 0, or a MACHINE_EXIT_* status with a message. */
static int take_slots(struct sup *s)
{
	unsigned i;
	int st;

	for (i = 0; i < s->nr; i++) {
		struct slot *sl = &s->slot[i];

		st = machine_take(&sl->m);
		sl->taken = true;
		if (st)
			return st;
		if (open_console(s, sl) || setup_port(s, sl, i == s->pol.active))
			return MACHINE_EXIT_FAIL;
	}
	return 0;
}

/* ---- The slots' VMMs ---- */

static int slot_start(struct sup *s, struct slot *sl, bool respawn)
{
	char mark[96];
	int n, err;

	n = snprintf(mark, sizeof(mark), "\n--- sluice: %s boot %u on %s ---\n", sl->name,
		     ++sl->boots, sl->m.bdf[0]);
	if (write(sl->log_fd, mark, (size_t)n) < 0)
		pr_warn("%s: console log: %s", sl->name, strerror(errno));
	err = respawn ? machine_respawn(&sl->m) : machine_spawn(&sl->m);
	if (err)
		return err;
	sl->pidfd = (int)syscall(SYS_pidfd_open, sl->m.vmm, 0);
	if (sl->pidfd < 0) {
		err = -errno;
		pr_err("%s: pidfd of the VMM (pid %d): %s; stopping it", sl->name, (int)sl->m.vmm,
		       strerror(errno));
		/* Unwatched, it must not run: the failure path only reaps VMMs it has a pidfd of. */
		kill(sl->m.vmm, SIGKILL);
		while (machine_reap(&sl->m) == -EAGAIN)
			usleep(1000);
		return err;
	}
	dvm_policy_started(&s->pol, sl->idx, now_ms());
	pr_info("%s: driver VM booting on %s (VMM pid %d, downlink %s%s)", sl->name, sl->m.bdf[0],
		(int)sl->m.vmm, sl->m.pv.net[0].tap.ifname, sl->idx == s->pol.active ? ", in the bridge" : ", spare");
	return ep_add(s, sl->pidfd, EV_VMM, sl->idx);
}

/* Kill the slot's VMM if it still runs and reap it: its status. */
static int slot_reap(struct slot *sl)
{
	int st = machine_reap(&sl->m);

	if (st == -EAGAIN) {
		kill(sl->m.vmm, SIGKILL);
		poll(&(struct pollfd){ .fd = sl->pidfd, .events = POLLIN }, 1, -1);
		st = machine_reap(&sl->m);
	}
	close_fd(&sl->pidfd);
	return st < 0 ? MACHINE_EXIT_FAIL : st;
}

/* The bridge ports follow pol.active: the old active's TAP leaves, the new one joins. */
static void swap_ports(struct sup *s)
{
	struct slot *in = &s->slot[s->pol.active], *out = &s->slot[1 - s->pol.active];
	int err;

	if ((err = sriov_nl_set_master(&s->nl, in->tap_ifindex, s->br_ifindex)))
		pr_err("%s: %s into bridge %s: %s", in->name, in->m.pv.net[0].tap.ifname,
		       s->c->bridge, strerror(-err));
	if (out->tap_ifindex > 0 && (err = sriov_nl_set_master(&s->nl, out->tap_ifindex, 0)))
		pr_err("%s: %s out of bridge %s: %s", out->name, out->m.pv.net[0].tap.ifname,
		       s->c->bridge, strerror(-err));
	pr_info("%s: failover: %s (%s) now serves bridge %s", s->c->bridge, in->name, in->m.bdf[0],
		s->c->bridge);
}

/* The slot gave up: its device back to the host, its TAP gone. */
static void slot_give_back(struct slot *sl)
{
	close_fd(&sl->probe_fd);
	close_fd(&sl->pidfd);
	if (sl->checked)
		machine_give_back(&sl->m);
	sl->checked = sl->taken = false;
	sl->tap_ifindex = 0;
	close_fd(&sl->log_fd);
	close_fd(&sl->null_fd);
}

/*
 * The slot failed: swap the ports first (consumers wait for nothing else),
 * then make sure its VMM is dead, then what the policy says. False: stop.
 */
static bool slot_failed(struct sup *s, struct slot *sl, enum dvm_fail why, int status)
{
	unsigned act = dvm_policy_failed(&s->pol, sl->idx, why, now_ms());

	if (act & DVM_DO_FAILOVER)
		swap_ports(s);
	if (sl->pidfd >= 0) {
		ep_del(s, sl->pidfd);
		status = slot_reap(sl);
	}
	pr_err("%s: driver VM on %s failed: %s (VMM status %d; %llu ms since its last sign of life); %s",
	       sl->name, sl->m.bdf[0], dvm_fail_name(why), status,
	       (unsigned long long)s->pol.last_detect_ms,
	       act & DVM_DO_RESTART ? "restarting it" : act & DVM_DO_DROP ? "giving it up" : "stopping");
	if (act & (DVM_DO_DROP | DVM_DO_STOP))
		pr_err("%s: the driver VM on %s failed %u times in a row (last: %s): the restart limit "
		       "is %u; its device goes back to its host driver", sl->name, sl->m.bdf[0],
		       s->pol.s[sl->idx].fails, dvm_fail_name(why), s->c->restart_limit);
	if (act & DVM_DO_DROP) {
		ep_del(s, sl->probe_fd);
		slot_give_back(sl);
	}
	dvm_status_write(s);
	return !(act & DVM_DO_STOP);
}

static void on_vmm_exit(struct sup *s, struct slot *sl)
{
	int st;

	ep_del(s, sl->pidfd);
	st = slot_reap(sl);
	if (!slot_failed(s, sl, dvm_fail_of_status(st), st))
		s->done = MACHINE_EXIT_FAIL;
}

static void on_probe(struct sup *s, struct slot *sl)
{
	uint8_t f[128];
	ssize_t n;
	unsigned act;

	while ((n = recv(sl->probe_fd, f, sizeof(f), 0)) > 0) {
		if (!dvm_arp_is_answer(f, (size_t)n, s->c->addr, s->mac))
			continue;
		act = dvm_policy_answered(&s->pol, sl->idx, now_ms());
		if (act & DVM_DO_FAILOVER)
			swap_ports(s);
		if (act & DVM_BECAME_UP) {
			pr_info("%s: driver VM on %s is up (%llu ms after its start)%s", sl->name,
				sl->m.bdf[0], (unsigned long long)(now_ms() - s->pol.s[sl->idx].started),
				sl->idx == s->pol.active ? ", serving" : ", warm spare");
			dvm_status_write(s);
		}
	}
}

/* Every probe period: probe, find the hung and the late, restart what is due. */
static void tick(struct sup *s)
{
	uint8_t f[DVM_ARP_LEN];
	uint64_t now = now_ms();
	enum dvm_fail why;
	unsigned i;

	for (i = 0; i < s->nr && !s->done; i++) {
		struct slot *sl = &s->slot[i];
		enum dvm_state st = s->pol.s[i].state;

		if (st == DVM_BOOTING || st == DVM_UP) {
			dvm_arp_probe(f, sizeof(f), sl->tap_mac, s->mac, s->c->addr);
			dvm_probe_send(sl->probe_fd, sl->tap_ifindex, f, sizeof(f));
			if ((why = dvm_policy_overdue(&s->pol, i, now)) && !slot_failed(s, sl, why, -1))
				s->done = MACHINE_EXIT_FAIL;
		} else if (dvm_policy_restart_due(&s->pol, i, now)) {
			if (!slot_start(s, sl, true))
				dvm_status_write(s);
			else if (!slot_failed(s, sl, DVM_FAIL_BOOT, -1))	/* it writes the state */
				s->done = MACHINE_EXIT_FAIL;
		}
	}
}

static void on_signal(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo != SIGCHLD && !s->stop_signal) {
			s->stop_signal = (int)si.ssi_signo;
			pr_info("%s: %s: stopping the driver VMs and giving everything back", s->c->bridge,
				strsignal((int)si.ssi_signo));
		}
}

static void loop(struct sup *s)
{
	struct epoll_event ev[8];
	uint64_t next = now_ms();
	int n, i;

	while (!s->done && !s->stop_signal) {
		uint64_t now = now_ms();

		if (now >= next) {
			tick(s);
			next = now + s->c->probe_ms;
			continue;
		}
		n = epoll_wait(s->ep, ev, 8, (int)(next - now));
		for (i = 0; i < n && !s->done; i++) {
			unsigned kind = (unsigned)(ev[i].data.u64 >> 32), idx = (unsigned)ev[i].data.u64;

			if (kind == EV_SIGNAL)
				on_signal(s);
			else if (kind == EV_VMM && s->slot[idx].pidfd >= 0)
				on_vmm_exit(s, &s->slot[idx]);
			else if (kind == EV_PROBE && s->slot[idx].probe_fd >= 0)
				on_probe(s, &s->slot[idx]);
		}
	}
}

/* ---- The whole life ---- */

int ep_add(struct sup *s, int fd, unsigned kind, unsigned idx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)kind << 32 | idx };

	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void ep_del(struct sup *s, int fd)
{
	if (fd >= 0)
		epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
}

/* Signals from a signalfd (as the monitor of `run` does), epoll, rtnetlink, the bridge, the lock. */
static int sup_open(struct sup *s)
{
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) ||
	    (s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    (s->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || ep_add(s, s->sig_fd, EV_SIGNAL, 0)) {
		pr_err("%s: signals and epoll: %s", s->c->bridge, strerror(errno));
		return -errno;
	}
	s->br_ifindex = (int)if_nametoindex(s->c->bridge);
	if (!s->br_ifindex || (err = sriov_nl_open(&s->nl))) {
		pr_err("%s: rtnetlink: %s", s->c->bridge, strerror(errno));
		return -errno;
	}
	return dvm_state_init(s);
}

static int sup_init(struct sup *s, const struct dvm_config *c)
{
	struct in_addr a = { .s_addr = c->addr };
	unsigned i;

	memset(s, 0, sizeof(*s));
	s->c = c;
	s->ep = s->sig_fd = s->lock_fd = -1;
	s->nr = c->spare ? 2 : 1;
	for (i = 0; i < DVM_SLOTS; i++) {
		struct slot *sl = &s->slot[i];

		sl->idx = i;
		sl->device = i ? c->spare : c->device;
		sl->pidfd = sl->probe_fd = sl->log_fd = sl->null_fd = -1;
		snprintf(sl->name, sizeof(sl->name), "dvm%u-%s", i + 1, c->bridge);
	}
	dvm_policy_init(&s->pol, &(struct dvm_timing){ .probe_ms = c->probe_ms, .misses = c->misses,
		.boot_ms = (uint64_t)c->boot_s * 1000, .restart_limit = c->restart_limit }, s->nr);
	dvm_downlink_mac(c->bridge, c->addr, s->mac);
	snprintf(s->cmdline, sizeof(s->cmdline), "console=ttyS0 quiet panic=-1 oops=panic panic_on_oops=1 "
		 "softlockup_panic=1 sluice.dvm.addr=%s/%u%s%s", inet_ntoa(a), c->prefix,
		 c->append ? " " : "", c->append ? c->append : "");
	return sup_open(s);
}

/* Everything back in reverse: each VMM killed (VFIO resets its device), devices, VFs and TAPs back. */
static void sup_exit(struct sup *s)
{
	unsigned i;

	for (i = s->nr; i-- > 0;)
		slot_give_back(&s->slot[i]);
	sriov_nl_close(&s->nl);
	dvm_state_exit(s);
	close_fd(&s->ep);
	close_fd(&s->sig_fd);
}

int dvm_supervise(const struct dvm_config *c)
{
	struct sup s;
	unsigned i;
	int st;

	if (tap_check_bridge(c->bridge, "driver-vm --bridge"))
		return MACHINE_EXIT_USAGE;
	if ((st = sup_init(&s, c))) {
		st = st == -EBUSY ? MACHINE_EXIT_USAGE : MACHINE_EXIT_FAIL;
		goto out;
	}
	if (check_slots(&s)) {
		st = MACHINE_EXIT_USAGE;
		goto out;
	}
	if (c->jail.enabled == false)
		pr_warn("%s: --no-jail: the driver VMs' VMMs run as root, unconfined", c->bridge);
	if ((st = take_slots(&s)))
		goto out;
	for (i = 0; i < s.nr; i++)
		if (slot_start(&s, &s.slot[i], false)) {
			st = MACHINE_EXIT_FAIL;
			goto out;
		}
	dvm_status_write(&s);
	loop(&s);
	st = s.done;
out:
	sup_exit(&s);
	return st;
}
