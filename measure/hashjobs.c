/* Independent digests on a small thread pool (hashjobs.h).
 *
 * Workers pull the next job index from one atomic counter; each job writes
 * only its own output and status, and the caller reads them after joining
 * every worker, so no other synchronisation is needed. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "cvmkit/hash.h"
#include "cvmkit/pe.h"
#include "hashjobs.h"

void hashjobs_init(struct hashjobs *s)
{
	memset(s, 0, sizeof(*s));
}

void hashjobs_free(struct hashjobs *s)
{
	for (size_t i = 0; i < s->n_keep; i++)
		free(s->keep[i]);
	free(s->keep);
	free(s->jobs);
	hashjobs_init(s);
}

int hashjobs_keep(struct hashjobs *s, void *buf)
{
	if (s->n_keep == s->cap_keep) {
		size_t cap = s->cap_keep ? 2 * s->cap_keep : 16;
		void **k = realloc(s->keep, cap * sizeof(*k));

		if (!k) {
			free(buf);
			return -ENOMEM;
		}
		s->keep = k;
		s->cap_keep = cap;
	}
	s->keep[s->n_keep++] = buf;
	return 0;
}

static struct hashjob *new_job(struct hashjobs *s)
{
	struct hashjob *j;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct hashjob *v = realloc(s->jobs, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->jobs = v;
		s->cap = cap;
	}
	j = &s->jobs[s->n++];
	memset(j, 0, sizeof(*j));
	j->alias = SIZE_MAX;
	return j;
}

int hashjobs_add_digest(struct hashjobs *s, enum cvm_hash_alg alg, const struct hashjob_piece *pieces, size_t n,
			bool pad4, uint8_t *out)
{
	struct hashjob *j;

	if (n == 0 || n > HASHJOB_MAX_PIECES)
		return -EINVAL;
	j = new_job(s);
	if (!j)
		return -ENOMEM;
	j->kind = HASHJOB_DIGEST;
	j->alg = alg;
	j->n_pieces = n;
	memcpy(j->pieces, pieces, n * sizeof(*pieces));
	j->pad4 = pad4;
	j->out = out;
	if (n != 1)
		return 0;
	/* A region already hashed from its start by an earlier job (the initrd
	 * blob begins with .initrd, which PCR 11 measures alone): its digest is
	 * a by-product of that job.  Padding comes after a piece, so it never
	 * changes the first piece's digest. */
	for (size_t i = 0; i + 1 < s->n; i++) {
		struct hashjob *e = &s->jobs[i];

		if (e->kind == HASHJOB_DIGEST && e->alias == SIZE_MAX && e->alg == alg &&
		    e->pieces[0].buf == pieces[0].buf && e->pieces[0].len == pieces[0].len) {
			j->alias = i;
			e->want_first = true;
			break;
		}
	}
	return 0;
}

int hashjobs_add_authenticode(struct hashjobs *s, enum cvm_hash_alg alg, const uint8_t *buf, size_t len,
			      uint8_t *out)
{
	struct hashjob *j = new_job(s);

	if (!j)
		return -ENOMEM;
	j->kind = HASHJOB_AUTHENTICODE;
	j->alg = alg;
	j->n_pieces = 1;
	j->pieces[0].buf = buf;
	j->pieces[0].len = len;
	j->out = out;
	return 0;
}

/* The digest so far, leaving ctx running. */
static int digest_so_far(const struct cvm_hash_ctx *ctx, uint8_t *out)
{
	struct cvm_hash_ctx copy = { 0 };
	int r = cvm_hash_clone(&copy, ctx);

	if (r >= 0)
		r = cvm_hash_final(&copy, out);
	cvm_hash_free(&copy);
	return r;
}

static int run_digest(struct hashjob *j)
{
	static const uint8_t zeros[4] = { 0 };
	struct cvm_hash_ctx ctx = { 0 };
	int r = cvm_hash_init(&ctx, j->alg);

	for (size_t i = 0; i < j->n_pieces && r >= 0; i++) {
		r = cvm_hash_update(&ctx, j->pieces[i].buf, j->pieces[i].len);
		if (r >= 0 && i == 0 && j->want_first && j->n_pieces > 1)
			r = digest_so_far(&ctx, j->first);
		if (r >= 0 && j->pad4 && j->pieces[i].len % 4)
			r = cvm_hash_update(&ctx, zeros, 4 - j->pieces[i].len % 4);
	}
	if (r >= 0)
		r = cvm_hash_final(&ctx, j->out);
	cvm_hash_free(&ctx);
	return r < 0 ? r : 0;
}

static void run_job(struct hashjob *j)
{
	if (j->kind == HASHJOB_AUTHENTICODE)
		j->r = cvm_pe_authenticode(j->pieces[0].buf, j->pieces[0].len, j->alg, j->out);
	else
		j->r = run_digest(j);
}

struct pool {
	struct hashjob *jobs;
	const size_t *order;
	size_t n;
	atomic_size_t next;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while ((i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < p->n)
		run_job(&p->jobs[p->order[i]]);
	return NULL;
}

/* Bytes, weighted by the time each takes: with SHA-NI, SHA-256 runs about
 * 2.5 times as fast as SHA-384/512 (which has no such instructions), so a
 * SHA-384 job of a region is the bigger one to start first. */
static size_t job_cost(const struct hashjob *j)
{
	size_t sum = 0;

	for (size_t i = 0; i < j->n_pieces; i++)
		sum += j->pieces[i].len;
	return j->alg == CVM_HASH_SHA384 || j->alg == CVM_HASH_SHA512 ? sum / 2 * 5 : sum;
}

int hashjobs_run(struct hashjobs *s)
{
	pthread_t tid[HASHJOBS_MAX_THREADS - 1];
	struct pool pool = { .jobs = s->jobs };
	size_t *order = NULL, started = 0, want, total = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int r = 0;

	if (s->n == 0)
		return 0;
	order = malloc(s->n * sizeof(*order));
	if (!order)
		return -ENOMEM;
	/* Costliest first (stable insertion sort: a few dozen jobs), so that no
	 * thread starts a big region while the others run out of work. */
	for (size_t i = 0; i < s->n; i++) {
		size_t k = pool.n;

		if (s->jobs[i].alias != SIZE_MAX)
			continue;
		while (k > 0 && job_cost(&s->jobs[order[k - 1]]) < job_cost(&s->jobs[i])) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = i;
		pool.n++;
		total += job_cost(&s->jobs[i]);
	}
	pool.order = order;
	atomic_init(&pool.next, 0);

	want = cpus < 1 ? 1 : cpus > HASHJOBS_MAX_THREADS ? HASHJOBS_MAX_THREADS : (size_t)cpus;
	if (want > pool.n)
		want = pool.n;
	/* Starting a thread costs about what hashing a few hundred KiB does: a
	 * small image (a test's, a fuzzer's) is hashed on the calling thread. */
	if (want > 1 + total / HASHJOBS_BYTES_PER_THREAD)
		want = 1 + total / HASHJOBS_BYTES_PER_THREAD;
	/* A thread that cannot be started only makes the batch slower. */
	while (started + 1 < want && pthread_create(&tid[started], NULL, worker, &pool) == 0)
		started++;
	worker(&pool);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);

	for (size_t i = 0; i < s->n; i++) {
		struct hashjob *j = &s->jobs[i];

		if (j->alias != SIZE_MAX) {
			const struct hashjob *e = &s->jobs[j->alias];

			j->r = e->r;
			if (j->r >= 0)
				memcpy(j->out, e->n_pieces == 1 ? e->out : e->first, cvm_hash_size(j->alg));
		}
		if (j->r < 0 && r == 0)
			r = j->r;
	}
	free(order);
	return r;
}
