/* sluice: virtio-blk request processing (virtio 1.2 §5.2). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "vmm/virtio/iov.h"
#include "vmm/log.h"
#include "vmm/virtio/virtio_blk.h"

#define HDR_LEN		sizeof(struct virtio_blk_outhdr)	/* 16 */

/* ---- opening the image ---- */

/* A directory opens read-only and fails read-write with EISDIR: one message for both. */
static int refuse_directory(const struct virtio_blk *blk)
{
	pr_err("%s: a directory, not a disk image: give a raw image file or a block device",
	       blk->name);
	return -EISDIR;
}

static int open_image(struct virtio_blk *blk, bool ro)
{
	int err;

	blk->fd = open(blk->path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd >= 0)
		return 0;
	err = -errno;
	if (err == -EISDIR)
		return refuse_directory(blk);
	if (!ro && (err == -EACCES || err == -EPERM || err == -EROFS))
		pr_err("%s: cannot open for writing: %s; add ,ro to attach it read-only, "
		       "or fix its permissions", blk->name, strerror(-err));
	else
		pr_err("%s: cannot open: %s", blk->name, strerror(-err));
	return err;
}

/* Two writers would corrupt the image; readers may share it. */
static int lock_image(const struct virtio_blk *blk, bool ro)
{
	int err;

	if (!flock(blk->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB))
		return 0;
	err = -errno;
	if (err != -EWOULDBLOCK)
		pr_err("%s: cannot lock: %s", blk->name, strerror(-err));
	else if (ro)
		pr_err("%s: in use read-write by another sluice (it holds the lock); "
		       "stop that one first", blk->name);
	else
		pr_err("%s: in use by another sluice (it holds the lock); stop that one, "
		       "or attach the image with ,ro in both", blk->name);
	return err;
}

static int image_size(const struct virtio_blk *blk, uint64_t *size)
{
	struct stat st;

	if (fstat(blk->fd, &st) < 0) {
		pr_err("%s: cannot stat: %s", blk->name, strerror(errno));
		return -errno;
	}
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISDIR(st.st_mode)) {
		return refuse_directory(blk);
	} else if (!S_ISBLK(st.st_mode)) {
		pr_err("%s: not a regular file or a block device", blk->name);
		return -EINVAL;
	} else if (ioctl(blk->fd, BLKGETSIZE64, size) < 0) {
		pr_err("%s: cannot read the block device's size: %s", blk->name, strerror(errno));
		return -errno;
	}
	/* §5.2.4: capacity counts 512-byte sectors; a tail would be lost. */
	if (*size % VIRTIO_BLK_SECTOR_SIZE) {
		pr_err("%s: size %llu is not a multiple of 512 bytes; pad it with "
		       "truncate -s %llu %s", blk->name, (unsigned long long)*size,
		       (unsigned long long)(*size | (VIRTIO_BLK_SECTOR_SIZE - 1)) + 1, blk->path);
		return -EINVAL;
	}
	return 0;
}

static void fill_config(struct virtio_blk *blk, uint64_t size, bool ro)
{
	blk->ro = ro;
	blk->capacity = size / VIRTIO_BLK_SECTOR_SIZE;
	blk->features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
			(1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_F_VERSION_1);
	if (ro)
		blk->features |= 1ull << VIRTIO_BLK_F_RO;
	memset(&blk->config, 0, sizeof(blk->config));
	blk->config.capacity = htole64(blk->capacity);
	blk->config.seg_max = htole32(VIRTIO_BLK_SEG_MAX);
	/* Linux makes blk_size the logical block size: keep 512. */
	blk->config.blk_size = htole32(VIRTIO_BLK_SECTOR_SIZE);
}

int virtio_blk_open(struct virtio_blk *blk, const char *path, bool ro, const char *id)
{
	uint64_t size;
	int err;

	memset(blk, 0, sizeof(*blk));
	blk->fd = -1;
	blk->path = strdup(path);
	/* With an id, open errors already name the disk as the user knows it. */
	err = blk->path ? 0 : -ENOMEM;
	if (!err && id)
		err = virtio_blk_set_id(blk, id);
	else if (!err && asprintf(&blk->name, "disk (%s)", path) < 0) {
		blk->name = NULL;
		err = -ENOMEM;
	}
	if (err)
		goto err_free;
	err = open_image(blk, ro);
	if (err)
		goto err_free;
	err = lock_image(blk, ro);
	if (!err)
		err = image_size(blk, &size);
	if (err)
		goto err_close;	/* closing drops the lock */
	fill_config(blk, size, ro);
	return 0;

err_close:
	close(blk->fd);
	blk->fd = -1;
err_free:
	free(blk->name);
	free(blk->path);
	blk->name = blk->path = NULL;
	return err;
}

void virtio_blk_close(struct virtio_blk *blk)
{
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk->name);
	free(blk->path);
	blk->fd = -1;
	blk->name = blk->path = NULL;
}

int virtio_blk_set_id(struct virtio_blk *blk, const char *id)
{
	char *name;

	if (asprintf(&name, "%s (%s)", id, blk->path) < 0)
		return -ENOMEM;
	free(blk->name);
	blk->name = name;
	/* §5.2.6: NUL-padded, up to 20 bytes, unterminated when 20 long. */
	memset(blk->serial, 0, sizeof(blk->serial));
	memcpy(blk->serial, id, strnlen(id, sizeof(blk->serial)));
	return 0;
}

void virtio_blk_config_read(const struct virtio_blk *blk, uint32_t offset, void *data, uint32_t len)
{
	const uint8_t *cfg = (const uint8_t *)&blk->config;
	uint8_t *out = data;
	uint32_t i;

	for (i = 0; i < len; i++)
		out[i] = (uint64_t)offset + i < sizeof(blk->config) ? cfg[offset + i] : 0;
}

/* ---- iovec helpers; the chain's iovecs are ours to trim ---- */

/* Drop @n bytes from the front; leading empty entries go too. */
static void iov_advance(struct iovec **iov, unsigned *cnt, size_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt && n) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/* Drop @n bytes from the front in place: the entries stay, emptied (the chain keeps its shape). */
static void iov_trim(struct iovec *iov, unsigned cnt, size_t n)
{
	size_t k;

	for (; cnt && n; iov++, cnt--) {
		k = iov->iov_len < n ? iov->iov_len : n;
		iov->iov_base = (uint8_t *)iov->iov_base + k;
		iov->iov_len -= k;
		n -= k;
	}
}

/* The last device-writable byte, taken off the writable iovecs (§5.2.6). */
static uint8_t *take_status(struct iovec *iov, unsigned cnt)
{
	while (cnt && !iov[cnt - 1].iov_len)
		cnt--;
	if (!cnt)
		return NULL;
	iov[cnt - 1].iov_len--;
	return (uint8_t *)iov[cnt - 1].iov_base + iov[cnt - 1].iov_len;
}

/* ---- requests ---- */

/* preadv/pwritev until done: partial transfers, EINTR, IOV_MAX batches. */
static int rw_full(int fd, struct iovec *iov, unsigned cnt, off_t off, bool write, uint64_t *done)
{
	ssize_t r;
	int n;

	for (iov_advance(&iov, &cnt, 0); cnt; iov_advance(&iov, &cnt, (size_t)r)) {
		n = cnt < IOV_MAX ? (int)cnt : IOV_MAX;
		r = write ? pwritev(fd, iov, n, off) : preadv(fd, iov, n, off);
		if (r < 0 && errno == EINTR)
			r = 0;
		else if (r < 0)
			return -errno;
		else if (r == 0)
			return -EIO;	/* the image shrank under us */
		*done += (uint64_t)r;
		off += r;
	}
	return 0;
}

static int blk_rw(struct virtio_blk *blk, struct iovec *iov, unsigned cnt, uint64_t len,
		  uint64_t sector, bool write, uint64_t *done)
{
	int err;

	/* §5.2.6.1: whole sectors, never beyond capacity. */
	if (len % VIRTIO_BLK_SECTOR_SIZE || sector > blk->capacity ||
	    len / VIRTIO_BLK_SECTOR_SIZE > blk->capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	err = rw_full(blk->fd, iov, cnt, (off_t)(sector * VIRTIO_BLK_SECTOR_SIZE), write, done);
	if (!err)
		return VIRTIO_BLK_S_OK;
	if (!blk->io_err_logged)
		pr_err("%s: %s of %llu bytes at sector %llu failed: %s (further I/O errors "
		       "not reported)", blk->name, write ? "write" : "read",
		       (unsigned long long)len, (unsigned long long)sector, strerror(-err));
	blk->io_err_logged = true;
	return VIRTIO_BLK_S_IOERR;
}

static int blk_flush(struct virtio_blk *blk)
{
	/* A read-only disk has no writes to make stable (§5.2.6.2). */
	if (blk->ro)
		return VIRTIO_BLK_S_OK;
	if (!fdatasync(blk->fd))
		return VIRTIO_BLK_S_OK;
	if (!blk->io_err_logged)
		pr_err("%s: flush failed: %s (further I/O errors not reported)",
		       blk->name, strerror(errno));
	blk->io_err_logged = true;
	return VIRTIO_BLK_S_IOERR;
}

/* Header consumed; in = writable data iovecs (status taken off). */
static int dispatch(struct virtio_blk *blk, struct virtq_chain *c, uint32_t type,
		    uint64_t sector, uint64_t *written)
{
	struct iovec *in = c->iov + c->nr_out;
	uint64_t in_len = c->in_len - 1, out_len = c->out_len - HDR_LEN, unused = 0;

	switch (type) {
	case VIRTIO_BLK_T_IN:
		return blk_rw(blk, in, c->nr_in, in_len, sector, false, written);
	case VIRTIO_BLK_T_OUT:
		/* §5.2.6.2: IOERR, and nothing written, on a read-only device. */
		if (blk->ro)
			return VIRTIO_BLK_S_IOERR;
		return blk_rw(blk, c->iov, c->nr_out, out_len, sector, true, &unused);
	case VIRTIO_BLK_T_FLUSH:
		return blk_flush(blk);
	case VIRTIO_BLK_T_GET_ID:
		*written = iov_from_buf(in, c->nr_in, blk->serial, sizeof(blk->serial));
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

int virtio_blk_process(struct virtio_blk *blk, struct virtq_chain *c, uint32_t *used_len)
{
	struct virtio_blk_outhdr hdr;
	uint64_t written = 0;
	uint8_t *status;
	int s;

	*used_len = 0;
	if (c->out_len < HDR_LEN || c->in_len < 1)
		return -EINVAL;
	/* §2.7.4: the header may span descriptors; copy it once. */
	iov_to_buf(c->iov, c->nr_out, &hdr, HDR_LEN);
	iov_trim(c->iov, c->nr_out, HDR_LEN);
	status = take_status(c->iov + c->nr_out, c->nr_in);
	s = dispatch(blk, c, le32toh(hdr.type), le64toh(hdr.sector), &written);
	*status = (uint8_t)s;
	*used_len = (uint32_t)written + 1;
	return s;
}

static int serve_one(struct virtio_blk *blk, struct virtq *vq, struct iovec *iov)
{
	struct virtq_chain c = { .iov = iov, .iov_max = VIRTIO_BLK_QUEUE_SIZE };
	enum virtq_err why;
	uint32_t used;
	int r;

	r = virtq_pop(vq, &c, &why);
	if (r == -EINVAL) {
		pr_err_rl("%s: %s: %s; queue stopped until the driver resets the device",
		       blk->name, vq->name, virtq_strerror(why));
		return -EIO;
	}
	if (r)
		return r;
	if (virtio_blk_process(blk, &c, &used) < 0) {
		pr_err_rl("%s: %s: request with %u device-readable and %u device-writable bytes "
		       "lacks the 16-byte header or the status byte (virtio 1.2 §5.2.6); "
		       "queue stopped until the driver resets the device",
		       blk->name, vq->name, c.out_len, c.in_len);
		virtq_set_broken(vq, VIRTQ_E_REQUEST);
		return -EIO;
	}
	return virtq_push(vq, c.head, used);
}

int virtio_blk_serve(struct virtio_blk *blk, struct virtq *vq, bool *notify)
{
	struct iovec iov[VIRTIO_BLK_QUEUE_SIZE];
	int served = 0, err = -EAGAIN;

	do {
		virtq_disable_notify(vq);
		while (served < VIRTIO_BLK_BUDGET && !(err = serve_one(blk, vq, iov)))
			served++;
		/* A driver that keeps the ring full gets a batch, then the worker yields. */
		if (served == VIRTIO_BLK_BUDGET) {
			*notify = virtq_need_notify(vq);
			return served;
		}
	} while (err == -EAGAIN && virtq_enable_notify(vq));
	*notify = served && virtq_need_notify(vq);
	return err == -EAGAIN ? served : err;
}
