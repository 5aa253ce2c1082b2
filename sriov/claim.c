/*
 * sluice: a VF for `sluice run --net vf:PF`: check (phase 2), claim under the
 * PF's lock (phase 3), release (phase 6), and release for dead sluices.
 * Each change is recorded (record.c) before it is made.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sriov/sriov.h"
#include "vfio/bind.h"
#include "vmm/log.h"

#define CARRIER_WAIT_MS	5000	/* igb reports link ~1-2 s after IFF_UP (watchdog task) */

static int resolve_pf(const char *sysfs, const char *spec, struct sriov_pf *pf)
{
	char why[HOSTPCI_WHY_LEN];
	int err = sriov_pf_resolve(sysfs, spec, pf, why, sizeof(why));

	if (err) {
		pr_err("--net vf:%s: %s", spec, why);
		return err == -ENODEV || err == -ENOENT ? -ENODEV : -EINVAL;
	}
	if (!pf->ifname[0]) {
		pr_err("%s: the PF has no network interface (driver '%s'): bind it to its NIC driver first",
		       pf->bdf, pf->driver[0] ? pf->driver : "none");
		return -EINVAL;
	}
	return 0;
}

/* The PF's VFs as pick slots; @vfs gets them too. How many or -errno. */
static int slots_of(const char *sysfs, const char *rundir, const struct sriov_pf *pf,
		    struct sriov_vf *vfs, struct sriov_slot *slots)
{
	int n = sriov_vf_list(sysfs, rundir, pf, vfs, SRIOV_MAX_VFS), i;

	for (i = 0; i < n; i++) {
		slots[i].held = vfs[i].holder != 0;
		slots[i].foreign = !slots[i].held && !strcmp(vfs[i].driver, "vfio-pci");
	}
	return n;
}

static int refuse_no_free(const struct sriov_pf *pf)
{
	pr_err("%s (%s): all %u VFs are in use (see 'sluice vf list %s'), and the kernel changes the VF count only from 0: stop a VM that holds one, or run 'sluice release' for dead ones",
	       pf->bdf, pf->ifname, pf->numvfs, pf->ifname);
	return -EBUSY;
}

int sriov_vf_check(const char *sysfs, const char *rundir, const struct vf_request *req)
{
	struct sriov_vf vfs[SRIOV_MAX_VFS];
	struct sriov_slot slots[SRIOV_MAX_VFS];
	struct sriov_pf pf;
	unsigned idx;
	int n, err;

	if ((err = resolve_pf(sysfs, req->pf, &pf)))
		return err;
	if (req->vlan > 4095 || req->rate < -1 || (req->has_mac && req->mac[0] & 1)) {
		pr_err("%s: --net vf: bad settings: vlan 0-4095, rate in Mbps, a unicast mac", pf.bdf);
		return -EINVAL;
	}
	if (!pf.numvfs)
		return 0;	/* the claim creates them */
	n = slots_of(sysfs, rundir, &pf, vfs, slots);
	if (n < 0)
		return n;
	return sriov_pick(slots, (unsigned)n, &idx) ? refuse_no_free(&pf) : 0;
}

static void mac_str(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* The settings @req asks for, as rtnetlink requests, and what each changes. */
static unsigned wanted(const struct vf_request *req, const struct sriov_vf_record *old,
		       const uint8_t mac[6], struct sriov_vf_set *set, unsigned *nr)
{
	unsigned changed = SRIOV_CHANGED_MAC, vf = old->index, n = 0;

	set[n++] = (struct sriov_vf_set){ .what = SRIOV_SET_MAC, .vf = vf };
	memcpy(set[0].mac, mac, 6);
	if (req->vlan >= 0) {
		set[n++] = (struct sriov_vf_set){ .what = SRIOV_SET_VLAN, .vf = vf,
						  .vlan = (unsigned)req->vlan };
		changed |= SRIOV_CHANGED_VLAN;
	}
	if (req->spoofchk >= 0) {
		set[n++] = (struct sriov_vf_set){ .what = SRIOV_SET_SPOOFCHK, .vf = vf,
						  .on = req->spoofchk };
		changed |= SRIOV_CHANGED_SPOOFCHK;
	}
	if (req->trust >= 0) {
		set[n++] = (struct sriov_vf_set){ .what = SRIOV_SET_TRUST, .vf = vf, .on = req->trust };
		changed |= SRIOV_CHANGED_TRUST;
	}
	if (req->rate >= 0) {
		set[n++] = (struct sriov_vf_set){ .what = SRIOV_SET_RATE, .vf = vf,
						  .min_rate = old->min_rate > 0 ? (unsigned)old->min_rate : 0,
						  .max_rate = (unsigned)req->rate };
		changed |= SRIOV_CHANGED_RATE;
	}
	*nr = n;
	return changed;
}

/* Put back what @mask says was changed, from the record's old values. */
static void restore_settings(struct sriov_nl *nl, const struct sriov_pf *pf,
			     const struct sriov_vf_record *r, unsigned mask)
{
	struct sriov_vf_set s = { .vf = r->index };

	if (mask & SRIOV_CHANGED_RATE) {
		s.what = SRIOV_SET_RATE;
		s.min_rate = r->min_rate > 0 ? (unsigned)r->min_rate : 0;
		s.max_rate = r->max_rate > 0 ? (unsigned)r->max_rate : 0;
		sriov_vf_apply(nl, pf, &s);
	}
	if ((mask & SRIOV_CHANGED_TRUST) && r->trust >= 0) {
		s.what = SRIOV_SET_TRUST, s.on = r->trust;
		sriov_vf_apply(nl, pf, &s);
	}
	if ((mask & SRIOV_CHANGED_SPOOFCHK) && r->spoofchk >= 0) {
		s.what = SRIOV_SET_SPOOFCHK, s.on = r->spoofchk;
		sriov_vf_apply(nl, pf, &s);
	}
	if (mask & SRIOV_CHANGED_VLAN) {
		s.what = SRIOV_SET_VLAN;
		s.vlan = r->vlan > 0 ? (unsigned)r->vlan : 0;
		s.qos = r->qos > 0 ? (unsigned)r->qos : 0;
		sriov_vf_apply(nl, pf, &s);
	}
	if (mask & SRIOV_CHANGED_MAC) {
		s.what = SRIOV_SET_MAC;
		memcpy(s.mac, r->mac, 6);
		sriov_vf_apply(nl, pf, &s);
	}
}

/*
 * Whether a VF of @pf is still held: a live sluice's settings record, or any
 * binding record. The VF being given back has lost both by now (its binding
 * is given back first, its record removed before this), so the caller's own
 * other VFs count too: a monitor with two VFs of one PF (a driver-VM
 * supervisor and its spare, or one VM with two) destroys them only with the last.
 */
static bool others_hold(const char *sysfs, const char *rundir, const struct sriov_pf *pf)
{
	struct sriov_vf vfs[SRIOV_MAX_VFS];
	struct bind_record br;
	int n = sriov_vf_list(sysfs, rundir, pf, vfs, SRIOV_MAX_VFS), i;

	for (i = 0; i < n; i++) {
		if (vfs[i].holder && vfs[i].holder_alive)
			return true;
		/* A binding not given back yet (a dead sluice's, or a failed rebind): the VF count waits. */
		if (!bind_record_read(rundir, vfs[i].bdf, &br))
			return true;
	}
	return false;
}

/* The last one out gives the PF back: its link state, then its VF count. */
static void pf_give_back(const char *sysfs, const char *rundir, struct sriov_nl *nl,
			 const struct sriov_pf *pf)
{
	struct sriov_pf_record pr;
	unsigned idx;

	if (sriov_pf_record_read(rundir, pf->bdf, &pr) || others_hold(sysfs, rundir, pf))
		return;
	if (pr.link_was_down && (idx = if_nametoindex(pr.ifname)) && sriov_nl_set_up(nl, (int)idx, false))
		pr_err("%s (%s): could not set the link down again: run 'ip link set %s down'", pf->bdf,
		       pr.ifname, pr.ifname);
	if (pr.created && !sriov_set_numvfs(sysfs, pf, pr.numvfs))
		pr_info("%s (%s): VF count back to %u", pf->bdf, pr.ifname, pr.numvfs);
	sriov_pf_record_remove(rundir, pf->bdf);
}

static int wait_carrier(const char *sysfs, const char *ifname)
{
	char path[PATH_MAX], v[4] = "";
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/class/net/%s/carrier", sysfs, ifname);
	for (i = 0; i < CARRIER_WAIT_MS / 50; i++) {
		if ((f = fopen(path, "re"))) {
			if (!fgets(v, sizeof(v), f))
				v[0] = '\0';
			fclose(f);
		}
		if (v[0] == '1')
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

/*
 * The PF part of a claim: record its VF count and link state (once, for every
 * sluice that uses it) before creating VFs or bringing the link up.
 * *@wrote: this claim made the PF record (so a failure here undoes it).
 */
static int pf_prepare(const char *sysfs, const char *rundir, struct sriov_nl *nl,
		      struct sriov_pf *pf, bool *wrote)
{
	struct sriov_pf_record pr = { .numvfs = pf->numvfs };
	struct sriov_link l;
	int err;

	*wrote = false;
	if ((err = sriov_pf_read_link(nl, pf, &l)))
		return err;
	pr.created = !pf->numvfs;
	pr.link_was_down = !(l.flags & IFF_UP);
	if ((pr.created || pr.link_was_down) && sriov_pf_record_read(rundir, pf->bdf, &pr) == -ENOENT) {
		strcpy(pr.pf, pf->bdf);
		strcpy(pr.ifname, pf->ifname);
		if ((err = sriov_pf_record_write(rundir, &pr))) {
			pr_err("%s: cannot write its record under %s: %s", pf->bdf, rundir, strerror(-err));
			return err;
		}
		*wrote = true;
	}
	if (!pf->numvfs) {
		if ((err = sriov_set_numvfs(sysfs, pf, pf->totalvfs)))
			return err;
		pf->numvfs = pf->totalvfs;
		pr_info("%s (%s): created %u VFs", pf->bdf, pf->ifname, pf->numvfs);
	}
	/* igbvf will not start while the PF is down ("PF still in reset state"). */
	if (!(l.flags & IFF_UP) && (err = sriov_nl_set_up(nl, (int)l.ifindex, true))) {
		pr_err("%s (%s): bringing the PF link up: %s", pf->bdf, pf->ifname, strerror(-err));
		return err;
	}
	return 0;
}

/* Pick a free VF and record its settings as they are. */
static int vf_take(const char *sysfs, const char *rundir, struct sriov_nl *nl,
		   const struct sriov_pf *pf, const char *vm_name, struct sriov_vf_record *r)
{
	struct sriov_vf vfs[SRIOV_MAX_VFS];
	struct sriov_slot slots[SRIOV_MAX_VFS];
	const struct sriov_vf_info *vi;
	struct sriov_link l;
	unsigned pick;
	int n, err;

	n = slots_of(sysfs, rundir, pf, vfs, slots);
	if (n < 0)
		return n;
	if (sriov_pick(slots, (unsigned)n, &pick))
		return refuse_no_free(pf);
	if ((err = sriov_pf_read_link(nl, pf, &l)))
		return err;
	memset(r, 0, sizeof(*r));
	strcpy(r->vf, vfs[pick].bdf);
	strcpy(r->pf, pf->bdf);
	strcpy(r->ifname, pf->ifname);
	r->index = vfs[pick].index;
	r->pid = getpid();
	snprintf(r->vm, sizeof(r->vm), "%s", vm_name);
	r->vlan = r->qos = r->spoofchk = r->trust = r->min_rate = r->max_rate = -1;
	if ((vi = sriov_link_vf(&l, r->index))) {
		memcpy(r->mac, vi->mac, 6);
		r->vlan = vi->vlan, r->qos = vi->qos, r->spoofchk = vi->spoofchk;
		r->trust = vi->trust, r->min_rate = vi->min_rate, r->max_rate = vi->max_rate;
	}
	return 0;
}

/* Apply the request to the recorded VF; *@applied: what to undo on failure. */
static int vf_configure(const char *sysfs, struct sriov_nl *nl, const struct sriov_pf *pf,
			const struct vf_request *req, const struct sriov_vf_record *r,
			unsigned *applied)
{
	static const unsigned bit[] = {
		[SRIOV_SET_MAC] = SRIOV_CHANGED_MAC, [SRIOV_SET_VLAN] = SRIOV_CHANGED_VLAN,
		[SRIOV_SET_SPOOFCHK] = SRIOV_CHANGED_SPOOFCHK, [SRIOV_SET_TRUST] = SRIOV_CHANGED_TRUST,
		[SRIOV_SET_RATE] = SRIOV_CHANGED_RATE, [SRIOV_SET_LINK_STATE] = 0,
	};
	struct sriov_vf_set set[5];
	uint8_t mac[6];
	char text[18];
	unsigned i, n;
	int err;

	memcpy(mac, req->mac, 6);
	if (!req->has_mac) {
		if (getrandom(mac, sizeof(mac), 0) != sizeof(mac))
			return -EIO;
		mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);	/* IEEE 802: unicast, locally administered */
	}
	wanted(req, r, mac, set, &n);
	if (req->rate >= 0)
		wait_carrier(sysfs, pf->ifname);	/* igb takes a rate only with the link up */
	for (i = 0; i < n; i++) {
		if ((err = sriov_vf_apply(nl, pf, &set[i])))
			return err;
		*applied |= bit[set[i].what];
	}
	mac_str(mac, text);
	pr_info("%s (%s) VF %u: %s, mac %s%s", pf->bdf, pf->ifname, r->index, r->vf, text,
		req->has_mac ? "" : " (random, locally administered)");
	return 0;
}

static int claim_locked(const char *sysfs, const char *rundir, struct sriov_nl *nl,
			struct sriov_pf *pf, const struct vf_request *req, const char *vm_name,
			struct vf_claim *c)
{
	struct sriov_vf_record r;
	struct sriov_vf_set set[5];
	unsigned applied = 0, n;
	bool wrote_pf;
	int err;

	err = pf_prepare(sysfs, rundir, nl, pf, &wrote_pf);
	if (!err)
		err = vf_take(sysfs, rundir, nl, pf, vm_name, &r);
	if (!err) {
		r.changed = wanted(req, &r, req->mac, set, &n);	/* what the record must undo */
		if ((err = sriov_vf_record_write(rundir, &r)))
			pr_err("%s: cannot write its record under %s: %s", r.vf, rundir, strerror(-err));
	}
	if (err)
		goto err_pf;
	err = vf_configure(sysfs, nl, pf, req, &r, &applied);
	if (err)
		goto err_vf;
	*c = (struct vf_claim){ .claimed = true, .index = r.index };
	strcpy(c->bdf, r.vf);
	strcpy(c->pf, pf->bdf);
	return 0;

err_vf:
	restore_settings(nl, pf, &r, applied);
	sriov_vf_record_remove(rundir, r.vf);
err_pf:
	if (wrote_pf)
		pf_give_back(sysfs, rundir, nl, pf);
	return err;
}

int sriov_vf_claim(const char *sysfs, const char *rundir, const struct vf_request *req,
		   const char *vm_name, struct vf_claim *c)
{
	struct sriov_nl nl;
	struct sriov_pf pf;
	int lock, err;

	memset(c, 0, sizeof(*c));
	if ((err = resolve_pf(sysfs, req->pf, &pf)))
		return err;
	if ((lock = sriov_pf_lock(rundir, pf.bdf)) < 0) {
		pr_err("%s: cannot lock it under %s: %s", pf.bdf, rundir, strerror(-lock));
		return lock;
	}
	/* Read again under the lock: another sluice may have created VFs meanwhile. */
	if ((err = resolve_pf(sysfs, req->pf, &pf)) == 0 && (err = sriov_nl_open(&nl)) == 0) {
		err = claim_locked(sysfs, rundir, &nl, &pf, req, vm_name, c);
		sriov_nl_close(&nl);
	} else if (err) {
		pr_err("%s: rtnetlink: %s", pf.bdf, strerror(-err));
	}
	sriov_pf_unlock(lock);
	return err;
}

/* Give back one VF from its record, then the PF if nobody else needs it. Under the PF lock. */
static void give_back(const char *sysfs, const char *rundir, const struct sriov_vf_record *r)
{
	struct sriov_nl nl;
	struct sriov_pf pf;
	char why[HOSTPCI_WHY_LEN];
	int lock = sriov_pf_lock(rundir, r->pf);

	if (sriov_pf_resolve(sysfs, r->pf, &pf, why, sizeof(why))) {
		pr_err("%s: its PF %s is gone (%s): dropping its record", r->vf, r->pf, why);
		sriov_vf_record_remove(rundir, r->vf);
		sriov_pf_record_remove(rundir, r->pf);
		sriov_pf_unlock(lock);
		return;
	}
	if (sriov_nl_open(&nl) == 0) {
		if (hostpci_exists(sysfs, r->vf))
			restore_settings(&nl, &pf, r, r->changed);
		sriov_vf_record_remove(rundir, r->vf);
		pf_give_back(sysfs, rundir, &nl, &pf);
		sriov_nl_close(&nl);
	} else {
		pr_err("%s: rtnetlink: %s: its settings stay; run 'sluice release' again", r->vf,
		       strerror(errno));
	}
	sriov_pf_unlock(lock);
}

void sriov_vf_release(const char *sysfs, const char *rundir, struct vf_claim *c)
{
	struct sriov_vf_record r;

	if (!c->claimed)
		return;
	c->claimed = false;
	if (sriov_vf_record_read(rundir, c->bdf, &r)) {
		pr_err("%s: its record under %s/" SRIOV_RUNDIR_SUB " is gone: its settings stay as they are",
		       c->bdf, rundir);
		return;
	}
	give_back(sysfs, rundir, &r);
}

/* A PF record with no VF record beside it: a sluice died between the two writes. */
static void stale_pfs(const char *sysfs, const char *rundir, DIR *d)
{
	struct sriov_pf_record pr;
	struct sriov_nl nl;
	struct sriov_pf pf;
	char bdf[HOSTPCI_BDF_LEN], why[HOSTPCI_WHY_LEN];
	struct dirent *e;
	size_t len;
	int lock;

	rewinddir(d);
	while ((e = readdir(d))) {
		len = strlen(e->d_name);
		if (len < 4 || len - 3 >= sizeof(bdf) || strcmp(e->d_name + len - 3, ".pf"))
			continue;
		memcpy(bdf, e->d_name, len - 3);
		bdf[len - 3] = '\0';
		if (sriov_pf_record_read(rundir, bdf, &pr) || sriov_pf_resolve(sysfs, bdf, &pf, why, sizeof(why)))
			continue;
		lock = sriov_pf_lock(rundir, bdf);
		if (!sriov_nl_open(&nl)) {
			pf_give_back(sysfs, rundir, &nl, &pf);
			sriov_nl_close(&nl);
		}
		sriov_pf_unlock(lock);
	}
}

int sriov_release_stale(const char *sysfs, const char *rundir)
{
	char path[PATH_MAX], bdf[HOSTPCI_BDF_LEN];
	struct sriov_vf_record r;
	struct dirent *e;
	size_t len;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/" SRIOV_RUNDIR_SUB, rundir);
	if (!(d = opendir(path)))
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		len = strlen(e->d_name);
		if (len < 4 || len - 3 >= sizeof(bdf) || strcmp(e->d_name + len - 3, ".vf"))
			continue;
		memcpy(bdf, e->d_name, len - 3);
		bdf[len - 3] = '\0';
		if (sriov_vf_record_read(rundir, bdf, &r) || bind_pid_alive(r.pid))
			continue;
		give_back(sysfs, rundir, &r);
		printf("%s: VF %u of %s: settings given back from VM '%s' (pid %d)\n", r.vf, r.index,
		       r.pf, r.vm, (int)r.pid);
		n++;
	}
	stale_pfs(sysfs, rundir, d);
	closedir(d);
	return n;
}
