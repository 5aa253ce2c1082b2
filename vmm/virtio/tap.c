/* sluice: TAP devices for virtio-net (vmm/tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "vmm/log.h"
#include "vmm/virtio/tap.h"

/* drivers/net/tun.c: every tun/tap netdev has tun_flags ("0x1002\n"). -1 when none. */
static long tun_flags(const char *sysfs, const char *ifname)
{
	char path[256], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/class/net/%s/tun_flags", sysfs, ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (long)strtoul(buf, NULL, 16);
}

enum tap_kind tap_kind(const char *sysfs, const char *ifname)
{
	char path[256];
	long flags;

	snprintf(path, sizeof(path), "%s/class/net/%s", sysfs, ifname);
	if (access(path, F_OK))
		return TAP_ABSENT;
	flags = tun_flags(sysfs, ifname);
	if (flags < 0)
		return TAP_NOT_TUN;
	return flags & IFF_TAP ? TAP_IS_TAP : TAP_IS_TUN;
}

/* net/bridge/br_sysfs_br.c: a bridge has the attribute group "bridge"; a port has "brport". */
enum bridge_kind tap_bridge_kind(const char *sysfs, const char *ifname)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/class/net/%s", sysfs, ifname);
	if (access(path, F_OK))
		return BRIDGE_ABSENT;
	snprintf(path, sizeof(path), "%s/class/net/%s/bridge", sysfs, ifname);
	return access(path, F_OK) ? BRIDGE_NOT_BRIDGE : BRIDGE_IS_BRIDGE;
}

int tap_check_bridge(const char *bridge, const char *label)
{
	switch (tap_bridge_kind("/sys", bridge)) {
	case BRIDGE_ABSENT:
		pr_err("%s: there is no interface %s: create it (ip link add %s type bridge; "
		       "ip link set %s up) or name an existing bridge", label, bridge, bridge, bridge);
		return -ENODEV;
	case BRIDGE_NOT_BRIDGE:
		pr_err("%s: %s is a network interface but not a bridge: name a bridge "
		       "(ip link add BR type bridge)", label, bridge);
		return -EINVAL;
	default:
		return 0;
	}
}

static int check_kind(enum tap_kind kind, const char *ifname, const char *label)
{
	switch (kind) {
	case TAP_IS_TUN:
		pr_err("%s: %s is a TUN (layer 3) device, not a TAP: give a TAP "
		       "(ip tuntap add %s mode tap) or a new name", label, ifname, ifname);
		return -EINVAL;
	case TAP_NOT_TUN:
		pr_err("%s: %s is a network interface but not a TAP: give a TAP "
		       "or a name that does not exist yet (sluice then creates it)", label, ifname);
		return -EINVAL;
	default:
		return 0;
	}
}

static int set_iff(struct tap *t, const char *ifname, bool create, const char *label)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int err;

	/* A new TAP: never attach to one that appeared meanwhile; "%d" picks a free number. */
	if (create)
		ifr.ifr_flags |= IFF_TUN_EXCL;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", *ifname ? ifname : "sluice%d");
	if (ioctl(t->fd, TUNSETIFF, &ifr) == 0) {
		snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
		return 0;
	}
	err = -errno;
	if (err == -EPERM)
		pr_err("%s: %s TAP %s: permission denied: run as root (CAP_NET_ADMIN), or "
		       "create it beforehand owned by this user (ip tuntap add %s mode tap user USER)",
		       label, create ? "creating" : "attaching to", *ifname ? ifname : "sluiceN",
		       *ifname ? ifname : "NAME");
	else if (err == -EBUSY)
		pr_err("%s: TAP %s is in use (another process has it open): stop that one or "
		       "give another name", label, ifname);
	else
		pr_err("%s: TUNSETIFF %s: %s", label, *ifname ? ifname : "sluice%d", strerror(-err));
	return err;
}

int tap_check(const char *ifname, const char *label)
{
	return check_kind(*ifname ? tap_kind("/sys", ifname) : TAP_ABSENT, ifname, label);
}

int tap_open(struct tap *t, const char *ifname, const char *label)
{
	enum tap_kind kind = *ifname ? tap_kind("/sys", ifname) : TAP_ABSENT;
	int hdr_sz = sizeof(struct virtio_net_hdr_v1), err;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->orig_hdr_sz = -1;
	err = check_kind(kind, ifname, label);
	if (err)
		return err;
	t->created = kind == TAP_ABSENT;
	t->orig_flags = t->created ? -1 : tun_flags("/sys", ifname);
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		err = -errno;
		pr_err("%s: /dev/net/tun: %s: load the tun module (modprobe tun)", label, strerror(errno));
		return err;
	}
	err = set_iff(t, ifname, t->created, label);
	if (err)
		goto err_close;
	if (!t->created && ioctl(t->fd, TUNGETVNETHDRSZ, &t->orig_hdr_sz) < 0)
		t->orig_hdr_sz = -1;
	/* virtio 1.x: the header always has num_buffers (§5.1.6). */
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_sz) < 0) {
		err = -errno;
		pr_err("%s: TAP %s: TUNSETVNETHDRSZ: %s", label, t->ifname, strerror(errno));
		goto err_close;
	}
	return 0;

err_close:
	tap_close(t);
	return err;
}

/*
 * TUNSETIFF on an existing device sets its feature flags device-wide and they
 * outlive the fd (drivers/net/tun.c, tun_set_iff): attach once more with the
 * flags it had, so IFF_VNET_HDR goes away if sluice brought it.
 */
static void restore_flags(struct tap *t)
{
	const long features = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	struct ifreq ifr = { .ifr_flags = (short)(t->orig_flags & features) };
	int fd;

	if (t->orig_flags < 0 || (t->orig_flags & IFF_VNET_HDR))
		return;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->ifname);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		pr_warn("TAP %s: could not give back its flags %#lx: %s", t->ifname,
			(unsigned long)t->orig_flags, strerror(errno));
	if (fd >= 0)
		close(fd);
}

void tap_close(struct tap *t)
{
	if (t->fd < 0)
		return;
	/*
	 * An existing TAP outlives us: give back its header size, clear the
	 * offloads we set (there is no TUNGETOFFLOAD to save them by), and its flags.
	 */
	if (!t->created && t->ifname[0]) {
		tap_set_offload(t, 0);
		if (t->orig_hdr_sz > 0)
			ioctl(t->fd, TUNSETVNETHDRSZ, &t->orig_hdr_sz);
	}
	close(t->fd);
	t->fd = -1;
	if (!t->created && t->ifname[0])
		restore_flags(t);
}

int tap_set_offload(struct tap *t, unsigned flags)
{
	return ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}
