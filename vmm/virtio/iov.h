/*
 * sluice: copying between a flat buffer and a guest's scatter list (the
 * iovecs of a popped virtqueue chain), for the virtio devices.
 */
#ifndef SLUICE_IOV_H
#define SLUICE_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

/* Copy up to @len bytes from the front of @iov into @buf; bytes copied. @iov is left as it was. */
static inline size_t iov_to_buf(const struct iovec *iov, unsigned cnt, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0, k;

	for (; cnt && done < len; iov++, cnt--) {
		k = iov->iov_len < len - done ? iov->iov_len : len - done;
		memcpy(out + done, iov->iov_base, k);
		done += k;
	}
	return done;
}

/* Copy up to @len bytes of @buf into @iov, as far as it goes; bytes copied. */
static inline size_t iov_from_buf(const struct iovec *iov, unsigned cnt, const void *buf, size_t len)
{
	const uint8_t *in = buf;
	size_t done = 0, k;

	for (; cnt && done < len; iov++, cnt--) {
		k = iov->iov_len < len - done ? iov->iov_len : len - done;
		memcpy(iov->iov_base, in + done, k);
		done += k;
	}
	return done;
}

#endif
