/* sluice: virtio-iommu requests and state (vmm/virtio/viommu.h; virtio 1.2 §5.13.6). */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/virtio/viommu.h"

#define TAIL_LEN	sizeof(struct virtio_iommu_req_tail)

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

int viommu_endpoint_index(const struct viommu *v, uint32_t id)
{
	unsigned i;

	for (i = 0; i < v->p.nr_endpoints; i++)
		if (v->p.endpoint[i] == id)
			return (int)i;
	return -1;
}

int viommu_init(struct viommu *v, const struct viommu_params *p, const struct guest_mem *mem,
		const struct viommu_backend_ops *ops, void *opaque)
{
	unsigned i;

	if (p->nr_endpoints > VIOMMU_MAX_ENDPOINTS || p->nr_resv > VIOMMU_MAX_RESV ||
	    !p->page_size_mask || p->input_start > p->input_end || p->domain_start > p->domain_end)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->p = *p;
	v->mem = mem;
	v->ops = ops;
	v->opaque = opaque;
	for (i = 0; i < VIOMMU_MAX_ENDPOINTS; i++)
		v->ep_dom[i] = -1;
	return 0;
}

static int find_domain(const struct viommu *v, uint32_t id)
{
	unsigned i;

	for (i = 0; i < VIOMMU_MAX_ENDPOINTS; i++)
		if (v->dom[i].live && v->dom[i].id == id)
			return (int)i;
	return -1;
}

static uint64_t map_size(const struct viommu_mapping *m)
{
	return m->end - m->start + 1;
}

static void *map_hva(const struct viommu *v, const struct viommu_mapping *m)
{
	return guest_mem_ptr(v->mem, m->gpa, map_size(m));
}

/* Apply mapping @m to endpoint @ep; a backend error as a status. */
static int backend_map(struct viommu *v, unsigned ep, const struct viommu_mapping *m)
{
	int err = v->ops->map(v->opaque, ep, m->start, map_size(m), map_hva(v, m),
			      m->flags & (VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE));

	if (!err)
		return VIRTIO_IOMMU_S_OK;
	if (err == -ENOMEM) {
		/* Once per device: a guest that retries must not buy a log line per request. */
		if (!v->memlock_logged)
			pr_warn("virtio-iommu: MAP of IOVA 0x%llx-0x%llx refused (out of locked memory "
				"or DMA mappings): raise RLIMIT_MEMLOCK (ulimit -l) or give the guest less to map",
				(unsigned long long)m->start, (unsigned long long)m->end);
		v->memlock_logged = true;
		return VIRTIO_IOMMU_S_NOMEM;
	}
	return VIRTIO_IOMMU_S_DEVERR;
}

/* Remove mapping @m from endpoint @ep; -errno already logged by the backend. */
static int backend_unmap(struct viommu *v, unsigned ep, const struct viommu_mapping *m)
{
	return v->ops->unmap(v->opaque, ep, m->start, map_size(m));
}

static void endpoints_of(const struct viommu *v, int d, unsigned *eps, unsigned *n)
{
	unsigned i;

	*n = 0;
	for (i = 0; i < v->p.nr_endpoints; i++)
		if (v->ep_dom[i] == d)
			eps[(*n)++] = i;
}

/* One endpoint fewer in @dom; the last one takes the domain and its mappings along. */
static void put_domain(struct viommu *v, struct viommu_domain *dom)
{
	if (--dom->nr_eps)
		return;
	v->nr_maps -= dom->nr_maps;
	v->removed += dom->nr_maps;
	free(dom->map);
	memset(dom, 0, sizeof(*dom));
}

/* Take endpoint @ep out of its domain: its mappings removed from it; the domain freed when empty. */
static void detach_ep(struct viommu *v, unsigned ep)
{
	struct viommu_domain *dom;
	int d = v->ep_dom[ep];
	size_t i;

	if (d < 0)
		return;
	dom = &v->dom[d];
	for (i = dom->nr_maps; i-- > 0;)
		backend_unmap(v, ep, &dom->map[i]);
	v->ep_dom[ep] = -1;
	put_domain(v, dom);
}

void viommu_reset(struct viommu *v)
{
	uint64_t before = v->removed;
	unsigned i;

	for (i = 0; i < v->p.nr_endpoints; i++)
		detach_ep(v, i);
	v->reset_removed = v->removed - before;
}

/*
 * ATTACH's and DETACH's shared checks (§5.13.6.3-4), in the spec's order:
 * reserved bytes (and ATTACH's flags) INVAL, domain outside domain_range
 * RANGE, unknown endpoint NOENT. S_OK with *ep set, or the status.
 */
static int check_domain_ep(const struct viommu *v, bool bad_reserved, uint32_t domain,
			   __le32 endpoint, int *ep)
{
	if (bad_reserved)
		return VIRTIO_IOMMU_S_INVAL;
	if (domain < v->p.domain_start || domain > v->p.domain_end)
		return VIRTIO_IOMMU_S_RANGE;
	*ep = viommu_endpoint_index(v, le32toh(endpoint));
	return *ep < 0 ? VIRTIO_IOMMU_S_NOENT : VIRTIO_IOMMU_S_OK;
}

static int do_attach(struct viommu *v, const struct virtio_iommu_req_attach *r)
{
	uint32_t domain = le32toh(r->domain);
	struct viommu_domain *dom;
	int ep, d, st;
	size_t i;

	/* Unknown flags are INVAL too; BYPASS is not offered. */
	st = check_domain_ep(v, r->flags || !all_zero(r->reserved, sizeof(r->reserved)), domain,
			     r->endpoint, &ep);
	if (st)
		return st;
	d = find_domain(v, domain);
	if (d >= 0 && v->ep_dom[ep] == d)
		return VIRTIO_IOMMU_S_OK;
	/* Attached elsewhere: as if the driver sent DETACH first (§5.13.6.3). */
	detach_ep(v, (unsigned)ep);
	d = find_domain(v, domain);
	if (d < 0) {
		/* A domain needs an endpoint, so a free slot exists: at most one domain per endpoint. */
		for (d = 0; v->dom[d].live; d++)
			;
		v->dom[d].live = true;
		v->dom[d].id = domain;
	}
	dom = &v->dom[d];
	dom->nr_eps++;
	v->ep_dom[ep] = d;
	for (i = 0; i < dom->nr_maps; i++) {
		st = backend_map(v, (unsigned)ep, &dom->map[i]);
		if (st == VIRTIO_IOMMU_S_OK)
			continue;
		while (i--)
			backend_unmap(v, (unsigned)ep, &dom->map[i]);
		v->ep_dom[ep] = -1;
		put_domain(v, dom);
		return st;
	}
	return VIRTIO_IOMMU_S_OK;
}

static int do_detach(struct viommu *v, const struct virtio_iommu_req_detach *r)
{
	uint32_t domain = le32toh(r->domain);
	int ep, d, st;

	st = check_domain_ep(v, !all_zero(r->reserved, sizeof(r->reserved)), domain, r->endpoint, &ep);
	if (st)
		return st;
	d = find_domain(v, domain);
	if (d < 0)
		return VIRTIO_IOMMU_S_NOENT;
	if (v->ep_dom[ep] != d)
		return VIRTIO_IOMMU_S_INVAL;
	detach_ep(v, (unsigned)ep);
	return VIRTIO_IOMMU_S_OK;
}

/* First mapping of @dom whose end is >= @iova (the first that may overlap [iova, ...]). */
static size_t lower_bound(const struct viommu_domain *dom, uint64_t iova)
{
	size_t lo = 0, hi = dom->nr_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dom->map[mid].end < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_mapping(struct viommu_domain *dom, size_t at, const struct viommu_mapping *m)
{
	if (dom->nr_maps == dom->cap) {
		size_t cap = dom->cap ? 2 * dom->cap : 16;
		struct viommu_mapping *n = realloc(dom->map, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		dom->map = n;
		dom->cap = cap;
	}
	memmove(&dom->map[at + 1], &dom->map[at], (dom->nr_maps - at) * sizeof(*m));
	dom->map[at] = *m;
	dom->nr_maps++;
	return 0;
}

/* MAP's checks that need no domain (§5.13.6.5): flags, order, granule, input range. */
static int check_map(const struct viommu *v, const struct viommu_mapping *m)
{
	uint64_t granule = v->p.page_size_mask & -v->p.page_size_mask;

	if (m->flags & ~(uint32_t)VIRTIO_IOMMU_MAP_F_MASK)
		return VIRTIO_IOMMU_S_INVAL;
	/* No MMIO mappings (not offered: MSIs bypass on x86); VFIO needs read or write. */
	if ((m->flags & VIRTIO_IOMMU_MAP_F_MMIO) ||
	    !(m->flags & (VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE)))
		return VIRTIO_IOMMU_S_UNSUPP;
	if (m->start > m->end)
		return VIRTIO_IOMMU_S_INVAL;
	if ((m->start | m->gpa | (m->end + 1)) & (granule - 1))
		return VIRTIO_IOMMU_S_RANGE;
	if (m->start < v->p.input_start || m->end > v->p.input_end || map_size(m) == 0)
		return VIRTIO_IOMMU_S_RANGE;
	return VIRTIO_IOMMU_S_OK;
}

static int do_map(struct viommu *v, const struct virtio_iommu_req_map *r)
{
	struct viommu_mapping m = {
		.start = le64toh(r->virt_start), .end = le64toh(r->virt_end),
		.gpa = le64toh(r->phys_start), .flags = le32toh(r->flags),
	};
	unsigned eps[VIOMMU_MAX_ENDPOINTS], n, i;
	struct viommu_domain *dom;
	int d, st;
	size_t at;

	d = find_domain(v, le32toh(r->domain));
	if (d < 0)
		return VIRTIO_IOMMU_S_NOENT;
	dom = &v->dom[d];
	st = check_map(v, &m);
	if (st)
		return st;
	at = lower_bound(dom, m.start);
	if (at < dom->nr_maps && dom->map[at].start <= m.end)
		return VIRTIO_IOMMU_S_INVAL;	/* overlaps a mapping: nothing changes */
	if (!map_hva(v, &m))
		return VIRTIO_IOMMU_S_FAULT;	/* not wholly in guest RAM: never pinned */
	if (v->nr_maps >= VIOMMU_MAX_MAPPINGS)
		return VIRTIO_IOMMU_S_NOMEM;
	endpoints_of(v, d, eps, &n);
	for (i = 0; i < n; i++) {
		st = backend_map(v, eps[i], &m);
		if (st)
			goto err_unmap;
	}
	if (insert_mapping(dom, at, &m)) {
		st = VIRTIO_IOMMU_S_NOMEM;
		goto err_unmap;
	}
	v->nr_maps++;
	v->made++;
	return VIRTIO_IOMMU_S_OK;

err_unmap:
	while (i--)
		backend_unmap(v, eps[i], &m);
	return st;
}

static int do_unmap(struct viommu *v, const struct virtio_iommu_req_unmap *r)
{
	uint64_t start = le64toh(r->virt_start), end = le64toh(r->virt_end);
	unsigned eps[VIOMMU_MAX_ENDPOINTS], n, i;
	struct viommu_domain *dom;
	size_t first, last, k;
	int d, st = VIRTIO_IOMMU_S_OK;

	if (!all_zero(r->reserved, sizeof(r->reserved)))
		return VIRTIO_IOMMU_S_INVAL;
	d = find_domain(v, le32toh(r->domain));
	if (d < 0)
		return VIRTIO_IOMMU_S_NOENT;
	if (start > end)
		return VIRTIO_IOMMU_S_INVAL;
	dom = &v->dom[d];
	first = lower_bound(dom, start);
	for (last = first; last < dom->nr_maps && dom->map[last].start <= end; last++)
		;
	if (first == last)
		return VIRTIO_IOMMU_S_OK;	/* nothing mapped there: OK (§5.13.6.6) */
	/* §5.13.6.6: a mapping the range would split is RANGE, and nothing is removed. */
	if (dom->map[first].start < start || dom->map[last - 1].end > end)
		return VIRTIO_IOMMU_S_RANGE;
	endpoints_of(v, d, eps, &n);
	/* A mapping the backend could not remove stays, so teardown tries again. */
	for (k = first; k < last;) {
		bool gone = true;

		for (i = 0; i < n; i++)
			if (backend_unmap(v, eps[i], &dom->map[k]))
				gone = false;
		if (!gone) {
			st = VIRTIO_IOMMU_S_DEVERR;
			k++;
			continue;
		}
		memmove(&dom->map[k], &dom->map[k + 1], (dom->nr_maps - k - 1) * sizeof(dom->map[0]));
		dom->nr_maps--;
		v->nr_maps--;
		v->removed++;
		last--;
	}
	return st;
}

static void put_resv(uint8_t *p, const struct viommu_resv *r)
{
	struct virtio_iommu_probe_resv_mem prop = {
		.head.type = htole16(VIRTIO_IOMMU_PROBE_T_RESV_MEM),
		.head.length = htole16(sizeof(prop) - sizeof(prop.head)),
		.subtype = r->subtype,
		.start = htole64(r->start),
		.end = htole64(r->end),
	};

	memcpy(p, &prop, sizeof(prop));
}

/* PROBE (§5.13.6.8): the reserved regions into @props (@len bytes), then T_NONE (zeros). */
static int do_probe(struct viommu *v, const struct virtio_iommu_req_probe *r, uint8_t *props,
		    size_t len)
{
	const size_t plen = sizeof(struct virtio_iommu_probe_resv_mem);
	unsigned i;

	if (!all_zero(r->reserved, sizeof(r->reserved)))
		return VIRTIO_IOMMU_S_INVAL;
	if (viommu_endpoint_index(v, le32toh(r->endpoint)) < 0)
		return VIRTIO_IOMMU_S_NOENT;
	/* The driver offers probe_size bytes (§5.13.6.8.1); fewer cannot hold what we report. */
	if (len < VIOMMU_PROBE_SIZE || len < v->p.nr_resv * plen)
		return VIRTIO_IOMMU_S_INVAL;
	for (i = 0; i < v->p.nr_resv; i++)
		put_resv(props + i * plen, &v->p.resv[i]);
	return VIRTIO_IOMMU_S_OK;
}

/* Bytes of the device-readable part each request type needs: all of it but the tail. */
static size_t req_len_of(uint8_t type)
{
	switch (type) {
	case VIRTIO_IOMMU_T_ATTACH: return sizeof(struct virtio_iommu_req_attach) - TAIL_LEN;
	case VIRTIO_IOMMU_T_DETACH: return sizeof(struct virtio_iommu_req_detach) - TAIL_LEN;
	case VIRTIO_IOMMU_T_MAP: return sizeof(struct virtio_iommu_req_map) - TAIL_LEN;
	case VIRTIO_IOMMU_T_UNMAP: return sizeof(struct virtio_iommu_req_unmap) - TAIL_LEN;
	case VIRTIO_IOMMU_T_PROBE: return sizeof(struct virtio_iommu_req_probe);
	}
	return 0;
}

static int dispatch(struct viommu *v, const void *buf, uint8_t *props, size_t props_len)
{
	switch (((const struct virtio_iommu_req_head *)buf)->type) {
	case VIRTIO_IOMMU_T_ATTACH: return do_attach(v, buf);
	case VIRTIO_IOMMU_T_DETACH: return do_detach(v, buf);
	case VIRTIO_IOMMU_T_MAP: return do_map(v, buf);
	case VIRTIO_IOMMU_T_UNMAP: return do_unmap(v, buf);
	case VIRTIO_IOMMU_T_PROBE: return do_probe(v, buf, props, props_len);
	}
	return VIRTIO_IOMMU_S_UNSUPP;
}

int viommu_request(struct viommu *v, const void *req, size_t req_len, void *resp, size_t resp_len)
{
	/* Aligned, zero-padded copy: the structs are read in place. */
	union {
		struct virtio_iommu_req_probe probe;
		struct virtio_iommu_req_map map;
		uint8_t b[VIOMMU_REQ_MAX];
	} buf;
	struct virtio_iommu_req_tail tail = { 0 };
	uint8_t *out = resp;
	size_t need;
	int st;

	if (resp_len < TAIL_LEN)
		return -EINVAL;
	memset(out, 0, resp_len);
	memset(&buf, 0, sizeof(buf));
	memcpy(buf.b, req, req_len < sizeof(buf) ? req_len : sizeof(buf));
	/* The head's reserved bytes are ignored (§5.13.6.1: the device MUST ignore them). */
	need = req_len_of(buf.b[0]);
	if (req_len < sizeof(struct virtio_iommu_req_head))
		st = VIRTIO_IOMMU_S_INVAL;
	else if (!need)
		st = VIRTIO_IOMMU_S_UNSUPP;
	else if (req_len < need)
		st = VIRTIO_IOMMU_S_INVAL;
	else
		st = dispatch(v, &buf, out, resp_len - TAIL_LEN);
	if (st != VIRTIO_IOMMU_S_OK)
		memset(out, 0, resp_len);	/* no half-written properties */
	tail.status = (uint8_t)st;
	memcpy(out + resp_len - TAIL_LEN, &tail, TAIL_LEN);
	return st;
}

void viommu_config_read(const struct viommu *v, uint32_t off, void *data, uint32_t len)
{
	struct virtio_iommu_config c = {
		.page_size_mask = htole64(v->p.page_size_mask),
		.input_range.start = htole64(v->p.input_start),
		.input_range.end = htole64(v->p.input_end),
		.domain_range.start = htole32(v->p.domain_start),
		.domain_range.end = htole32(v->p.domain_end),
		.probe_size = htole32(VIOMMU_PROBE_SIZE),
	};
	uint8_t *out = data;
	uint32_t i;

	for (i = 0; i < len; i++)
		out[i] = (uint64_t)off + i < sizeof(c) ? ((const uint8_t *)&c)[off + i] : 0;
}

void viommu_fault_event(struct virtio_iommu_fault *ev, uint8_t reason, uint32_t flags,
			uint32_t endpoint, uint64_t address)
{
	memset(ev, 0, sizeof(*ev));
	ev->reason = reason;
	ev->flags = htole32(flags);
	ev->endpoint = htole32(endpoint);
	ev->address = htole64(address);
}

const char *viommu_status_name(int status)
{
	static const char *const names[] = {
		"OK", "IOERR", "UNSUPP", "DEVERR", "INVAL", "RANGE", "NOENT", "FAULT", "NOMEM",
	};

	return status >= 0 && (unsigned)status < ARRAY_SIZE(names) ? names[status] : "?";
}
