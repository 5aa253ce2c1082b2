/*
 * sluice: SR-IOV PFs and VFs (PCIe Base 4.0 §9; Documentation/PCI/pci-iov-howto.rst).
 *
 * The PF/VF model comes from sysfs through the host-PCI helper
 * (vfio/hostpci.h): sriov_totalvfs, sriov_numvfs, virtfnN/physfn, the PF's
 * driver and netdev. VF settings go over rtnetlink (sriov/vf_netlink.h).
 *
 * `sluice run --net vf:PF` claims a VF: under a per-PF lock it picks a VF
 * nobody holds, creating VFs when the PF has none, and records under
 * RUNDIR/sriov/ what it is about to change before changing it: the PF's VF
 * count and link state (PFBDF.pf, shared by every sluice using that PF) and
 * the VF's settings (VFBDF.vf, whose pid holds the VF). Release restores
 * from the records, so `sluice release` can do it for a sluice that died.
 */
#ifndef SLUICE_SRIOV_H
#define SLUICE_SRIOV_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sriov/vf_netlink.h"
#include "vfio/hostpci.h"

#define SRIOV_RUNDIR_SUB	"sriov"		/* RUNDIR/sriov/ */

/* A PF as sysfs and the records see it. */
struct sriov_pf {
	char bdf[HOSTPCI_BDF_LEN];
	char ifname[IFNAMSIZ];		/* "" when it has no netdev (unbound, on vfio-pci) */
	char driver[64];
	unsigned numvfs, totalvfs;
};

/* One VF of a PF: where it is and who holds it. */
struct sriov_vf {
	unsigned index;
	char bdf[HOSTPCI_BDF_LEN];
	char driver[64];
	char netdev[IFNAMSIZ];
	pid_t holder;			/* 0: nobody; the sluice pid from the records */
	bool holder_alive;
	char vm[80];
};

/*
 * Resolve what the user typed (an interface or a BDF) to an SR-IOV PF.
 * -ENODEV / -EINVAL with @why for what does not exist, is not a PF (no
 * SR-IOV capability: sriov_totalvfs absent or 0), or is a VF.
 */
int sriov_pf_resolve(const char *sysfs, const char *spec, struct sriov_pf *pf, char *why,
		     size_t whylen);
/* Every SR-IOV PF in sysfs, by BDF. How many (at most @max) or -errno. */
int sriov_pf_list(const char *sysfs, struct sriov_pf *pfs, unsigned max);
/* The PF's VFs 0..numvfs-1 with their holders. How many or -errno. */
int sriov_vf_list(const char *sysfs, const char *rundir, const struct sriov_pf *pf,
		  struct sriov_vf *vfs, unsigned max);

/* Pure: which VF to take. A slot is free when nobody holds it and no other user has it on vfio-pci. */
struct sriov_slot {
	bool held;			/* a sluice record names it (live or dead) */
	bool foreign;			/* on vfio-pci with no record: someone else's */
};
/* The first free slot into @idx: 0, or -EBUSY when none is. */
int sriov_pick(const struct sriov_slot *slots, unsigned n, unsigned *idx);

/* The record of one VF's settings before sluice changed them (RUNDIR/sriov/VFBDF.vf). */
enum {
	SRIOV_CHANGED_MAC = 1 << 0,
	SRIOV_CHANGED_VLAN = 1 << 1,
	SRIOV_CHANGED_SPOOFCHK = 1 << 2,
	SRIOV_CHANGED_TRUST = 1 << 3,
	SRIOV_CHANGED_RATE = 1 << 4,
};

struct sriov_vf_record {
	char vf[HOSTPCI_BDF_LEN], pf[HOSTPCI_BDF_LEN];
	char ifname[IFNAMSIZ];		/* the PF's netdev the settings go through */
	unsigned index;
	pid_t pid;
	char vm[80];
	unsigned changed;		/* SRIOV_CHANGED_*: what to give back */
	uint8_t mac[6];
	int vlan, qos, spoofchk, trust, min_rate, max_rate;	/* as read; -1 unknown */
};

/* The PF's state before the first sluice changed it (RUNDIR/sriov/PFBDF.pf). */
struct sriov_pf_record {
	char pf[HOSTPCI_BDF_LEN];
	char ifname[IFNAMSIZ];
	unsigned numvfs;		/* the count before */
	bool created;			/* sluice set sriov_numvfs */
	bool link_was_down;		/* sluice brought the PF link up */
};

/* Text forms ("key=value" lines); pure, for tests. 0 or -EINVAL. */
int sriov_vf_record_format(const struct sriov_vf_record *r, char *buf, size_t len);
int sriov_vf_record_parse(const char *text, struct sriov_vf_record *r);
int sriov_pf_record_format(const struct sriov_pf_record *r, char *buf, size_t len);
int sriov_pf_record_parse(const char *text, struct sriov_pf_record *r);

/* The records on disk (sriov/record.c). Writes are O_EXCL + fsync; 0 or -errno. */
int sriov_vf_record_write(const char *rundir, const struct sriov_vf_record *r);
int sriov_vf_record_read(const char *rundir, const char *vf, struct sriov_vf_record *r);
int sriov_vf_record_remove(const char *rundir, const char *vf);
int sriov_pf_record_write(const char *rundir, const struct sriov_pf_record *r);
int sriov_pf_record_read(const char *rundir, const char *pf, struct sriov_pf_record *r);
int sriov_pf_record_remove(const char *rundir, const char *pf);
/* flock(LOCK_EX) on RUNDIR/sriov/PFBDF.lock: the fd, or -errno. */
int sriov_pf_lock(const char *rundir, const char *pf);
void sriov_pf_unlock(int fd);

/*
 * Apply one setting to VF @vf of @pf, with a message naming the PF, VF and
 * setting when it fails ("0000:01:00.0 (enp1s0) VF 0: link state: not
 * supported by driver igb"). 0 or -errno.
 */
int sriov_vf_apply(struct sriov_nl *nl, const struct sriov_pf *pf, const struct sriov_vf_set *s);
/* The PF's netdev state over rtnetlink (VF infos, IFF_UP). 0 or -errno with a message. */
int sriov_pf_read_link(struct sriov_nl *nl, const struct sriov_pf *pf, struct sriov_link *l);
/* Write sriov_numvfs (0 first when changing a non-zero count, as the kernel requires). */
int sriov_set_numvfs(const char *sysfs, const struct sriov_pf *pf, unsigned n);

/* --net vf:PF[,mac=MAC][,vlan=N][,spoofchk=on|off][,trust=on|off][,rate=MBPS] */
struct vf_request {
	char pf[IFNAMSIZ + 16];		/* interface or BDF as typed */
	bool has_mac;
	uint8_t mac[6];
	int vlan;			/* -1: leave */
	int spoofchk, trust;		/* -1: leave, 0/1 */
	int rate;			/* -1: leave, Mbps */
};

/* What a claim took; sriov_vf_release() gives it back. */
struct vf_claim {
	bool claimed;
	char bdf[HOSTPCI_BDF_LEN];	/* the VF to assign */
	char pf[HOSTPCI_BDF_LEN];
	unsigned index;
};

/* Phase 2, no host change: PF exists and has SR-IOV, a VF is free or VFs can be created, the
 * settings are valid. 0 or -errno with a message (exit 2 cases of the issue). */
int sriov_vf_check(const char *sysfs, const char *rundir, const struct vf_request *req);
/* Phase 3: under the PF lock, pick, record, create, apply, bring the PF link up. Fills @c
 * (c->bdf: the VF to assign). On failure everything is given back. -EINVAL/-EBUSY/-EOPNOTSUPP
 * are refusals (the host is as it was), other errors are failures. */
int sriov_vf_claim(const char *sysfs, const char *rundir, const struct vf_request *req,
		   const char *vm_name, struct vf_claim *c);
/* Phase 6, every exit path: the VF's settings, then the PF link and VF count when no other
 * sluice holds a VF of that PF (the last one out restores them). Removes the records. */
void sriov_vf_release(const char *sysfs, const char *rundir, struct vf_claim *c);
/* `sluice release`: give back what dead sluices left (records whose pid is gone): each VF's
 * settings, then its PF's link and VF count. How many VFs were given back, or -errno. */
int sriov_release_stale(const char *sysfs, const char *rundir);

#endif
