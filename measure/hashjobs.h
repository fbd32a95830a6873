/* A batch of independent digests of large regions, computed on a small pool
 * of POSIX threads (private to measure/; the guest never links it).
 *
 * The caller queues jobs, each writing one digest into caller memory that
 * stays valid until hashjobs_run() returns, then runs the batch once.  Every
 * digest is a pure function of its job, so the results are identical to
 * computing the jobs one after another, whatever the scheduling.
 *
 * Regions are not copied: the bytes a job points at must stay valid and
 * unchanged until hashjobs_run() returns (hashjobs_keep() hands a buffer to
 * the batch for that long).  Functions return 0 or a negative errno. */
#ifndef CVMKIT_MEASURE_HASHJOBS_H
#define CVMKIT_MEASURE_HASHJOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hash.h"

#define HASHJOB_MAX_PIECES 8
#define HASHJOBS_MAX_THREADS 4
#define HASHJOBS_BYTES_PER_THREAD ((size_t)1 << 20) /* less work than this adds no thread */

struct hashjob_piece {
	const uint8_t *buf;
	size_t len;
};

enum hashjob_kind {
	HASHJOB_DIGEST,        /* H(pieces[0] || pieces[1] || ...) */
	HASHJOB_AUTHENTICODE,  /* cvm_pe_authenticode(pieces[0]) */
};

struct hashjob {
	enum hashjob_kind kind;
	enum cvm_hash_alg alg;
	size_t n_pieces;
	struct hashjob_piece pieces[HASHJOB_MAX_PIECES];
	bool pad4;                 /* DIGEST: each piece zero-padded to a multiple of 4 */
	uint8_t *out;              /* cvm_hash_size(alg) bytes, caller memory */
	/* Filled by hashjobs_add(): a digest of pieces[0] alone that an earlier
	 * job produces anyway is taken from it rather than hashed again. */
	size_t alias;              /* SIZE_MAX, or the index of that earlier job */
	bool want_first;           /* a later job aliases this job's pieces[0] digest */
	uint8_t first[CVM_HASH_MAX_SIZE];
	int r;
};

struct hashjobs {
	struct hashjob *jobs;
	size_t n, cap;
	void **keep;               /* owned buffers, freed by hashjobs_free() */
	size_t n_keep, cap_keep;
};

/* An empty batch (or zero-initialise the struct). */
void hashjobs_init(struct hashjobs *s);
/* Frees the job array and every kept buffer; safe to call twice. */
void hashjobs_free(struct hashjobs *s);

/* Queues a digest of pieces[0, n) (1 <= n <= HASHJOB_MAX_PIECES; pad4: each
 * piece is followed by zeros up to a multiple of 4) with alg into out.  The
 * piece array is copied, the bytes are not.  Returns 0, -EINVAL (bad n),
 * -ENOMEM. */
int hashjobs_add_digest(struct hashjobs *s, enum cvm_hash_alg alg, const struct hashjob_piece *pieces, size_t n,
			bool pad4, uint8_t *out);

/* Queues the edk2 Authenticode digest of the PE image buf[0, len) into out.
 * Returns 0 or -ENOMEM. */
int hashjobs_add_authenticode(struct hashjobs *s, enum cvm_hash_alg alg, const uint8_t *buf, size_t len,
			      uint8_t *out);

/* Hands buf (malloc'd) to the batch, which frees it in hashjobs_free().  On
 * -ENOMEM buf is freed at once.  Returns 0 or -ENOMEM. */
int hashjobs_keep(struct hashjobs *s, void *buf);

/* Runs every queued job on min(online CPUs, HASHJOBS_MAX_THREADS, 1 + bytes
 * to hash / HASHJOBS_BYTES_PER_THREAD) threads,
 * the calling thread included (fewer if threads cannot be started).  Returns
 * 0, or the error of the failing job queued first (the error a sequential
 * run would have stopped at): the cvm_hash_* or cvm_pe_authenticode() error. */
int hashjobs_run(struct hashjobs *s);

#endif
