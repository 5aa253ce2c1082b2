/*
 * sluice: IOMMU groups, read from sysfs, and whether a group can be handed
 * to a guest.
 *
 * The IOMMU group is the unit of isolation: VFIO gives a group to a
 * container only when it is "viable", i.e. no member is driven by a host
 * driver that does its own DMA (Documentation/driver-api/vfio.rst, "Groups,
 * Devices, and IOMMUs"). We check the same thing from sysfs before touching
 * /dev/vfio, so the user gets a message naming the device in the way.
 *
 * Every function takes the sysfs root ("/sys" on a host, a recorded tree in
 * tests/fixtures/sysfs/ under test) and reports failures as -errno plus a
 * one-line message in @err (may be NULL), which names the device or group
 * and says what to do next.
 */
#ifndef SLUICE_IOMMU_GROUP_H
#define SLUICE_IOMMU_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "0000:01:10.0"; a domain may have up to 7 hex digits (VMD uses 0x10000+). */
#define IOMMU_BDF_LEN		16
#define IOMMU_DRIVER_LEN	64
#define IOMMU_ERR_LEN		512	/* enough for a viability refusal */

struct iommu_group_member {
	char name[64];			/* sysfs device name: a BDF for PCI */
	char driver[IOMMU_DRIVER_LEN];	/* basename of the driver link, "" if unbound */
	uint16_t vendor, device;	/* 0 when sysfs has no such file */
	bool bridge;			/* PCI class 0x0604xx */
};

struct iommu_group {
	int id;
	unsigned nr_members;
	struct iommu_group_member *member;	/* sorted by name; iommu_group_free() */
};

/*
 * Canonicalise a PCI address: "DDDD:BB:SS.F" or the short "BB:SS.F" (domain
 * 0000), hex, either case. @out gets the lowercase sysfs spelling.
 * 0 or -EINVAL.
 */
int iommu_bdf_parse(const char *in, char out[IOMMU_BDF_LEN], char *err, size_t errlen);

/*
 * The IOMMU group number of @bdf (either form): -ENOENT when sysfs has no
 * such PCI device, -ENODEV when it has no iommu_group link (no IOMMU, or off).
 */
int iommu_group_of(const char *sysroot, const char *bdf, int *group, char *err, size_t errlen);

/* Read every member of group @id. On success free with iommu_group_free(). */
int iommu_group_read(const char *sysroot, int id, struct iommu_group *g, char *err, size_t errlen);
void iommu_group_free(struct iommu_group *g);

/*
 * Pure: may @g go to a container when the devices in @assign (either BDF
 * form; entries outside the group are ignored) are assigned? Every other
 * member must be on vfio-pci, on pci-stub, unbound, or a bridge. 0, or
 * -EBUSY with a message naming every blocking device and its driver;
 * -EINVAL for a malformed @assign entry.
 */
int iommu_group_viable(const struct iommu_group *g, const char *const *assign, unsigned nr_assign,
		       char *err, size_t errlen);

/* iommu_group_read() then iommu_group_viable(). */
int iommu_group_check(const char *sysroot, int id, const char *const *assign, unsigned nr_assign,
		      char *err, size_t errlen);

/* The VFIO group character device of group @id: "/dev/vfio/<id>". 0 or -ENAMETOOLONG. */
int iommu_group_vfio_path(int id, char *buf, size_t len);

/* The basename of symlink @path's target (a sysfs driver, group or device link) into @out. 0 or -errno. */
int iommu_sysfs_link_base(const char *path, char *out, size_t len);

#endif
