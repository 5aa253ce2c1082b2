/*
 * sluice: a TAP device as a virtio-net backend (Documentation/networking/
 * tuntap.rst): IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, with the 12-byte
 * virtio 1.x header (struct virtio_net_hdr_v1) on every frame.
 *
 * A name that does not exist is created for the run and not made persistent,
 * so it vanishes when its last fd closes: on every exit path, SIGKILL
 * included. An existing TAP (ip tuntap add, tunctl) is attached; on close its
 * vnet header size and flags are put back and the offloads sluice set are
 * cleared (TUNSETOFFLOAD 0: the kernel has no call to read the previous ones).
 */
#ifndef SLUICE_TAP_H
#define SLUICE_TAP_H

#include <net/if.h>
#include <stdbool.h>

enum tap_kind {
	TAP_ABSENT,	/* no interface by that name */
	TAP_IS_TAP,	/* a tun/tap device in TAP mode */
	TAP_IS_TUN,	/* a tun/tap device in TUN (layer 3) mode */
	TAP_NOT_TUN,	/* some other interface */
};

struct tap {
	int fd;
	char ifname[IFNAMSIZ];
	bool created;		/* ours: goes away with fd */
	int orig_hdr_sz;	/* an existing TAP's vnet header size, restored on close */
	long orig_flags;	/* an existing TAP's tun_flags (IFF_*), restored on close; -1: none */
};

/* What @ifname is, from @sysfs ("/sys"; a directory tree in tests). */
enum tap_kind tap_kind(const char *sysfs, const char *ifname);

enum bridge_kind {
	BRIDGE_ABSENT,		/* no interface by that name */
	BRIDGE_IS_BRIDGE,	/* a Linux bridge: it has <sysfs>/class/net/NAME/bridge */
	BRIDGE_NOT_BRIDGE,	/* some other interface */
};

/* What @ifname is as a bridge for sluice's TAP to join, from @sysfs ("/sys"; a tree in tests). */
enum bridge_kind tap_bridge_kind(const char *sysfs, const char *ifname);

/* No host change: @bridge is an existing bridge. 0, -ENODEV or -EINVAL with a message. */
int tap_check_bridge(const char *bridge, const char *label);

/* No host change: @ifname ("" = sluice picks) is a TAP or absent. 0 or -EINVAL with a message. */
int tap_check(const char *ifname, const char *label);

/*
 * Open @ifname, or create it ("" picks sluiceN), non-blocking, with the
 * virtio 1.x header. Messages start with @label ("net0"). 0 or -errno
 * (-EINVAL: the name is not a TAP).
 */
int tap_open(struct tap *t, const char *ifname, const char *label);
void tap_close(struct tap *t);

/* TUNSETOFFLOAD: TUN_F_* the reader (the guest) can take. 0 or -errno. */
int tap_set_offload(struct tap *t, unsigned flags);

#endif
