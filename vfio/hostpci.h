/*
 * sluice: the one place for host PCI facts read from sysfs.
 *
 * BDF parsing, a device's attributes (vendor, device, class, header type,
 * driver, IOMMU group), netdev <-> BDF, SR-IOV links (physfn, virtfnN,
 * sriov_totalvfs, sriov_numvfs) and the assignability check that both
 * `sluice devices` and `sluice run --assign` use, so that two readings of
 * the same file cannot disagree.
 *
 * Every function takes the sysfs root ("/sys" on a host, a recorded tree
 * under tests/fixtures/sysfs/ in the unit tests). Errors are -errno; where
 * a message is useful it goes into @why (may be NULL), naming the object
 * and saying what to do next. Nothing here changes the host.
 */
#ifndef SLUICE_VFIO_HOSTPCI_H
#define SLUICE_VFIO_HOSTPCI_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOSTPCI_BDF_LEN		16	/* = IOMMU_BDF_LEN */
#define HOSTPCI_WHY_LEN		512	/* = IOMMU_ERR_LEN */
#define HOSTPCI_MAX_NETDEVS	4	/* netdevs of one function we look at */

/* "DDDD:BB:SS.F" or "BB:SS.F" into the canonical lowercase form. 0 or -EINVAL. */
int hostpci_bdf_parse(const char *in, char out[HOSTPCI_BDF_LEN], char *why, size_t whylen);

/* Whether sysfs has PCI device @bdf (canonical form). */
bool hostpci_exists(const char *sysfs, const char *bdf);

/* bus/pci/devices/@bdf/@attr, first line, newline stripped. 0 or -errno. */
int hostpci_attr(const char *sysfs, const char *bdf, const char *attr, char *buf, size_t len);
/* The same attribute as a number ("0x8086", "7"; base from the prefix). 0 or -errno. */
int hostpci_attr_ul(const char *sysfs, const char *bdf, const char *attr, unsigned long *v);

/* Header type byte from config space offset 0x0e (PCI Local Bus 3.0 §6.1). 0 or -errno. */
int hostpci_header_type(const char *sysfs, const char *bdf, uint8_t *hdr);

/* The bound driver's name, "" when unbound. 0 or -errno. */
int hostpci_driver(const char *sysfs, const char *bdf, char *buf, size_t len);

/*
 * The PCI function behind network interface @ifname. -EINVAL for what
 * cannot be an interface name, -ENODEV when there is no such interface or it
 * is not a PCI function (a virtual interface, a USB NIC), each with @why.
 */
int hostpci_from_netdev(const char *sysfs, const char *ifname, char bdf[HOSTPCI_BDF_LEN],
			char *why, size_t whylen);

/* The network interfaces of @bdf, sorted; returns how many (0..@max) or -errno. */
int hostpci_netdevs(const char *sysfs, const char *bdf, char (*names)[IFNAMSIZ], unsigned max);

/* A VF's PF (the physfn link): 0, or -ENOENT when @bdf is not a VF. */
int hostpci_physfn(const char *sysfs, const char *bdf, char pf[HOSTPCI_BDF_LEN]);
/* The PF's VF number @idx (the virtfnN link): 0, or -ENOENT when it has none. */
int hostpci_virtfn(const char *sysfs, const char *pf, unsigned idx, char vf[HOSTPCI_BDF_LEN]);
/* Which VF of its PF @vf is: 0 with @idx, or -ENOENT. */
int hostpci_vf_index(const char *sysfs, const char *pf, const char *vf, unsigned *idx);

/* sriov_totalvfs / sriov_numvfs: -ENOENT when @bdf has no SR-IOV capability. */
int hostpci_sriov_totalvfs(const char *sysfs, const char *bdf, unsigned *n);
int hostpci_sriov_numvfs(const char *sysfs, const char *bdf, unsigned *n);

/*
 * Whether a guest can own @bdf as a device: config space readable, not a
 * class 0x06 bridge (a host bridge, an ISA/LPC bridge: part of the host's
 * platform; a PCI-PCI bridge: assign what is behind it), header type 0.
 * 0, or -EINVAL/-EIO with @why.
 */
int hostpci_check_endpoint(const char *sysfs, const char *bdf, char *why, size_t whylen);

/*
 * The one assignability check, the host untouched: an endpoint, in an IOMMU
 * group (into @group, -1 when none) that is viable when @set (the devices
 * assigned together, @bdf among them) go to one VM, and held by no sluice
 * per the records under @rundir (-EBUSY for a live holder, -ESTALE for one
 * that died). 0, or -errno with @why.
 */
int hostpci_check_assignable(const char *sysfs, const char *rundir, const char *bdf,
			     const char *const *set, unsigned nr_set, int *group, char *why,
			     size_t whylen);

#endif
