/* Provenance of published reference values: an in-toto Statement v1 whose
 * predicate is SLSA Provenance v1, naming the outputs (subjects with their
 * SHA-256), the pinned inputs of deps/lock (each with its sha256), the source
 * commit, SOURCE_DATE_EPOCH and the builder.  The JSON is deterministic: same
 * inputs, same bytes. */
#ifndef CVMKIT_PROVENANCE_H
#define CVMKIT_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>

#define CVM_PROVENANCE_MAX_SUBJECTS 16
#define CVM_PROVENANCE_LOCK_MAX (64u << 10)

struct cvm_provenance_subject {
	char name[64];         /* file name, no directory */
	uint8_t sha256[32];
};

struct cvm_provenance {
	const char *lock;      /* deps/lock text (NUL-terminated), or NULL */
	const char *commit;    /* 40 hex digits, or NULL */
	const char *builder;   /* builder id (a URI), or NULL for the default */
	long long source_date_epoch;
	struct cvm_provenance_subject subjects[CVM_PROVENANCE_MAX_SUBJECTS];
	size_t n_subjects;
};

/* *ret_json is malloc'd, ending in a newline.  Returns 0, -EINVAL (a lock line
 * without the seven fields of deps/lock or with a bad sha256, a commit that is
 * not 40 hex digits, a lock over CVM_PROVENANCE_LOCK_MAX), -ENOMEM. */
int cvm_provenance_build(const struct cvm_provenance *p, char **ret_json);

/* Reads back the subjects of a statement cvm_provenance_build wrote (or any
 * in-toto Statement v1 with sha256 digests).  Returns 0, -EBADMSG (not such a
 * statement, a subject name with '/' or "..", more than the maximum), -ENOMEM. */
int cvm_provenance_subjects(const char *json, size_t len, struct cvm_provenance_subject *ret, size_t max,
			    size_t *ret_n);

#endif
