/* in-toto Statement v1 + SLSA Provenance v1 for published files
 * (include/cvmkit/provenance.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/hex.h"
#include "cvmkit/provenance.h"

#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define PREDICATE_TYPE "https://slsa.dev/provenance/v1"
#define BUILD_TYPE "urn:cvmkit:build:v1"
#define DEFAULT_BUILDER "urn:cvmkit:builder:local"
/* scripts/deps.sh downloads from this mirror unless told otherwise. */
#define DEBIAN_MIRROR "https://deb.debian.org/debian/"

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static cJSON *digest_obj(const char *alg, const char *hex)
{
	cJSON *d = cJSON_CreateObject();

	if (d && !cJSON_AddStringToObject(d, alg, hex)) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

/* One deps/lock line -> a resolvedDependency; 0 for a comment/blank, <0 on error. */
static int add_lock_line(cJSON *deps, char *line)
{
	char kind[16], track[128], pkg[128], ver[128], path[512], sha[80], uri[600];
	long long size;
	cJSON *d, *ann;
	int n;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '#' || *line == 0)
		return 0;
	n = sscanf(line, "%15s %127s %127s %127s %511s %79s %lld", kind, track, pkg, ver, path, sha, &size);
	if (n != 7 || !is_hex(sha, 64) || size < 0 || strstr(path, ".."))
		return -EINVAL;
	snprintf(uri, sizeof(uri), DEBIAN_MIRROR "%s", path);
	d = cJSON_CreateObject();
	if (!d)
		return -ENOMEM;
	cJSON_AddItemToArray(deps, d);
	ann = cJSON_CreateObject();
	if (!cJSON_AddStringToObject(d, "name", pkg) || !cJSON_AddStringToObject(d, "uri", uri) || !ann)
		return -ENOMEM;
	cJSON_AddItemToObject(d, "digest", digest_obj("sha256", sha));
	cJSON_AddItemToObject(d, "annotations", ann);
	if (!cJSON_AddStringToObject(ann, "kind", kind) || !cJSON_AddStringToObject(ann, "track", track) ||
	    !cJSON_AddStringToObject(ann, "version", ver) || !cJSON_AddNumberToObject(ann, "size", (double)size))
		return -ENOMEM;
	return 0;
}

int cvm_provenance_build(const struct cvm_provenance *p, char **ret_json)
{
	cJSON *root = cJSON_CreateObject(), *subjects, *pred, *def, *ext, *deps, *run, *builder;
	char hex[65], *text = NULL, *lock = NULL;
	int r = -ENOMEM;

	if (!root)
		return -ENOMEM;
	if (p->commit && !is_hex(p->commit, 40)) {
		r = -EINVAL;
		goto out;
	}
	if (p->n_subjects > CVM_PROVENANCE_MAX_SUBJECTS ||
	    (p->lock && strlen(p->lock) > CVM_PROVENANCE_LOCK_MAX)) {
		r = -EINVAL;
		goto out;
	}
	cJSON_AddStringToObject(root, "_type", STATEMENT_TYPE);
	subjects = cJSON_AddArrayToObject(root, "subject");
	if (!subjects)
		goto out;
	for (size_t i = 0; i < p->n_subjects; i++) {
		cJSON *s = cJSON_CreateObject();
		if (!s)
			goto out;
		cJSON_AddItemToArray(subjects, s);
		cvm_hex_encode(p->subjects[i].sha256, 32, hex);
		if (!cJSON_AddStringToObject(s, "name", p->subjects[i].name))
			goto out;
		cJSON_AddItemToObject(s, "digest", digest_obj("sha256", hex));
	}
	cJSON_AddStringToObject(root, "predicateType", PREDICATE_TYPE);
	pred = cJSON_AddObjectToObject(root, "predicate");
	def = pred ? cJSON_AddObjectToObject(pred, "buildDefinition") : NULL;
	if (!def || !cJSON_AddStringToObject(def, "buildType", BUILD_TYPE))
		goto out;
	ext = cJSON_AddObjectToObject(def, "externalParameters");
	if (!ext || !cJSON_AddNumberToObject(ext, "source_date_epoch", (double)p->source_date_epoch))
		goto out;
	deps = cJSON_AddArrayToObject(def, "resolvedDependencies");
	if (!deps)
		goto out;
	if (p->commit) {
		cJSON *d = cJSON_CreateObject(), *dg = cJSON_CreateObject();
		if (!d || !dg) {
			cJSON_Delete(d);
			cJSON_Delete(dg);
			goto out;
		}
		cJSON_AddItemToArray(deps, d);
		cJSON_AddStringToObject(d, "name", "cvmkit");
		cJSON_AddStringToObject(dg, "gitCommit", p->commit);
		cJSON_AddItemToObject(d, "digest", dg);
	}
	if (p->lock) {
		lock = strdup(p->lock);
		if (!lock)
			goto out;
		for (char *save = NULL, *line = strtok_r(lock, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			r = add_lock_line(deps, line);
			if (r < 0)
				goto out;
		}
		r = -ENOMEM;
	}
	run = cJSON_AddObjectToObject(pred, "runDetails");
	builder = run ? cJSON_AddObjectToObject(run, "builder") : NULL;
	if (!builder || !cJSON_AddStringToObject(builder, "id", p->builder ? p->builder : DEFAULT_BUILDER))
		goto out;
	text = cJSON_Print(root);
	if (!text)
		goto out;
	size_t n = strlen(text);
	char *t = realloc(text, n + 2);
	if (!t)
		goto out;
	text = t;
	memcpy(text + n, "\n", 2);
	*ret_json = text;
	text = NULL;
	r = 0;
out:
	free(lock);
	free(text);
	cJSON_Delete(root);
	return r;
}

int cvm_provenance_subjects(const char *json, size_t len, struct cvm_provenance_subject *ret, size_t max,
			    size_t *ret_n)
{
	cJSON *root = cJSON_ParseWithLength(json, len), *subjects, *s;
	size_t n = 0;
	int r = -EBADMSG;

	if (!root)
		return -EBADMSG;
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "_type")) ||
	    strcmp(cJSON_GetObjectItemCaseSensitive(root, "_type")->valuestring, STATEMENT_TYPE) != 0)
		goto out;
	subjects = cJSON_GetObjectItemCaseSensitive(root, "subject");
	if (!cJSON_IsArray(subjects))
		goto out;
	cJSON_ArrayForEach(s, subjects) {
		cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
		cJSON *dg = cJSON_GetObjectItemCaseSensitive(s, "digest");
		cJSON *h = cJSON_IsObject(dg) ? cJSON_GetObjectItemCaseSensitive(dg, "sha256") : NULL;
		if (n >= max || !cJSON_IsString(name) || !cJSON_IsString(h) || !is_hex(h->valuestring, 64))
			goto out;
		size_t nl = strlen(name->valuestring);
		if (nl == 0 || nl >= sizeof(ret[n].name) || strchr(name->valuestring, '/') ||
		    strcmp(name->valuestring, "..") == 0 || strcmp(name->valuestring, ".") == 0)
			goto out;
		memcpy(ret[n].name, name->valuestring, nl + 1);
		if (cvm_hex_decode(h->valuestring, 64, ret[n].sha256, 32) < 0)
			goto out;
		n++;
	}
	*ret_n = n;
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}
