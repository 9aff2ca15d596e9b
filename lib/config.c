#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "data.h"
#include "dataconf.h"
#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"

/*
 * Both files use the data-file syntax of dataconf.h, parsed by the same
 * code as scoring.conf and reliability.conf: one format, one parser.
 */
struct kvfile {
	cp_dconf d;
	bool loaded;
};

static struct kvfile conf, creds;
static char *creds_path;
static int creds_status;   /* outcome of loading the credentials file */

static void kv_free(struct kvfile *f)
{
	size_t i;

	/* a secret may sit here: wipe it before it goes back to malloc */
	for (i = 0; i < f->d.n; i++)
		memset(f->d.v[i].val, 0, strlen(f->d.v[i].val));
	if (f->d.text)
		memset(f->d.text, 0, f->d.len);
	cp_dconf_free(&f->d);
	memset(f, 0, sizeof *f);
}

/* Read the whole stream and parse it into f. */
static int kv_parse(struct kvfile *f, FILE *fp, const char *path)
{
	strbuf sb = CP_STRBUF_INIT;
	char chunk[4096];
	size_t n;
	int rc;

	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		sb_add(&sb, chunk, n);
	memset(chunk, 0, sizeof chunk);
	if (ferror(fp)) {
		cp_err("%s: read error", path);
		rc = CP_EX_CONFIG;
		memset(&f->d, 0, sizeof f->d);
	} else {
		rc = cp_dconf_parse(sb_str(&sb), sb.len, path, &f->d);
	}
	if (sb.buf)
		memset(sb.buf, 0, sb.len);
	sb_free(&sb);
	f->loaded = true;
	return rc;
}

const char *cp_config_dir(void)
{
	static char dir[4096];
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (!*dir) {
		if (x && *x == '/')
			snprintf(dir, sizeof dir, "%s/clientpulse", x);
		else
			snprintf(dir, sizeof dir, "%s/.config/clientpulse",
			    home && *home ? home : "/");
	}
	return dir;
}

char *cp_config_path(const char *name)
{
	return xasprintf("%s/%s", cp_config_dir(), name);
}

int cp_config_load(const char *path)
{
	char *deflt = NULL;
	FILE *fp;
	int rc;

	if (conf.loaded)
		return 0;
	if (!path)
		path = getenv("CLIENTPULSE_CONFIG");
	if (!path || !*path) {
		path = deflt = cp_config_path("config");
		if (!(fp = fopen(path, "r"))) {
			conf.loaded = true;
			free(deflt);
			return 0;	/* no config file: all defaults */
		}
	} else if (!(fp = fopen(path, "r"))) {
		cp_err("config %s: %s", path, strerror(errno));
		return CP_EX_CONFIG;
	}
	rc = kv_parse(&conf, fp, path);
	fclose(fp);
	free(deflt);
	return rc;
}

void cp_config_free(void)
{
	kv_free(&conf);
	kv_free(&creds);
	creds_status = 0;
	free(creds_path);
	creds_path = NULL;
}

static const char *kv_get(const struct kvfile *f, const char *key)
{
	/* the last assignment wins, as in a shell */
	return f->d.n ? cp_dconf_get(&f->d, key) : NULL;
}

const char *cp_config_get(const char *key)
{
	if (!conf.loaded)
		cp_config_load(NULL);
	return kv_get(&conf, key);
}

int cp_config_getall(const char *key, const char **out, int max)
{
	size_t i;
	int n = 0;

	if (!conf.loaded)
		cp_config_load(NULL);
	for (i = 0; i < conf.d.n; i++)
		if (strcmp(conf.d.v[i].key, key) == 0) {
			if (n < max)
				out[n] = conf.d.v[i].val;
			n++;
		}
	return n;
}

static void envname(const char *key, char *out, size_t size)
{
	size_t i, o = 0;
	static const char pfx[] = "CLIENTPULSE_";

	for (i = 0; pfx[i] && o + 1 < size; i++)
		out[o++] = pfx[i];
	for (i = 0; key[i] && o + 1 < size; i++) {
		char c = key[i];
		out[o++] = (c == '.' || c == '-') ? '_' :
		    (char)toupper((unsigned char)c);
	}
	out[o] = '\0';
}

const char *cp_conf(const char *key, const char *flag, const char *dflt)
{
	char name[256];
	const char *v;

	if (flag)
		return flag;
	envname(key, name, sizeof name);
	if ((v = getenv(name)) != NULL && *v)
		return v;
	if ((v = cp_config_get(key)) != NULL)
		return v;
	return dflt;
}

long cp_conf_long(const char *key, const char *flag, long dflt)
{
	const char *v = cp_conf(key, flag, NULL);
	char *end;
	long n;

	if (!v)
		return dflt;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end) {
		cp_warn("%s: not a number: %s (using %ld)", key, v, dflt);
		return dflt;
	}
	return n;
}

double cp_conf_double(const char *key, const char *flag, double dflt)
{
	const char *v = cp_conf(key, flag, NULL);
	char *end;
	double d;

	if (!v)
		return dflt;
	d = strtod(v, &end);
	if (end == v || *end) {
		cp_warn("%s: not a number: %s (using %g)", key, v, dflt);
		return dflt;
	}
	return d;
}

bool cp_conf_bool(const char *key, const char *flag, bool dflt)
{
	const char *v = cp_conf(key, flag, NULL);

	if (!v)
		return dflt;
	if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		return true;
	if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
	    !strcasecmp(v, "off"))
		return false;
	cp_warn("%s: not a boolean: %s", key, v);
	return dflt;
}

void cp_credentials_set_path(const char *path)
{
	free(creds_path);
	creds_path = path ? xstrdup(path) : NULL;
	kv_free(&creds);
	creds_status = 0;
}

/* Load the credentials file once; 0, or CP_EX_CONFIG when it is unsafe. */
static int creds_load(void)
{
	int status = 0;
	struct stat st;
	const char *path;
	char *deflt = NULL;
	int fd;
	FILE *fp;

	if (creds.loaded)
		return creds_status;
	creds.loaded = true;
	path = creds_path ? creds_path : getenv("CLIENTPULSE_CREDENTIALS");
	if (!path || !*path)
		path = deflt = cp_config_path("credentials");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT || creds_path) {
			cp_err("credentials %s: %s", path, strerror(errno));
			status = CP_EX_CONFIG;
		}
		free(deflt);
		return creds_status = status;
	}
	/* Checked on the open descriptor, not the name, so the file cannot
	 * be swapped between the check and the read. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cp_err("credentials %s: not a regular file", path);
		status = CP_EX_CONFIG;
	} else if (st.st_mode & 077) {
		cp_err("credentials %s: mode %04o is readable by others; "
		    "run: chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		status = CP_EX_CONFIG;
	} else if (st.st_uid != geteuid()) {
		cp_err("credentials %s: not owned by the current user", path);
		status = CP_EX_CONFIG;
	} else if (!(fp = fdopen(fd, "r"))) {
		cp_err("credentials %s: %s", path, strerror(errno));
		status = CP_EX_CONFIG;
	} else {
		if (kv_parse(&creds, fp, path))
			status = CP_EX_CONFIG;
		fclose(fp);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	creds.loaded = true;
	free(deflt);
	return creds_status = status;
}

const char *cp_secret(const char *key, const char *env, int *err)
{
	const char *v = NULL;
	int rc = creds_load();

	if (err)
		*err = rc;
	if (rc)
		return NULL;
	v = kv_get(&creds, key);
	if (!v && env)
		v = getenv(env);
	if (v && !*v)
		v = NULL;
	if (v)
		cp_log_secret(v);
	return v;
}

const struct cp_datafile *cp_data_builtin(const char *name)
{
	const struct cp_datafile *d;

	for (d = cp_datafiles; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

char *cp_data_load(const char *name, size_t *len, char **origin)
{
	const struct cp_datafile *d;
	char *path = cp_config_path(name);
	FILE *fp = fopen(path, "r");

	if (fp) {
		strbuf sb = CP_STRBUF_INIT;
		char chunk[8192];
		size_t n;

		while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
			sb_add(&sb, chunk, n);
		if (ferror(fp)) {
			cp_err("%s: read error", path);
			fclose(fp);
			sb_free(&sb);
			free(path);
			return NULL;
		}
		fclose(fp);
		if (len)
			*len = sb.len;
		if (origin)
			*origin = path;
		else
			free(path);
		return sb_detach(&sb);
	}
	free(path);
	if (!(d = cp_data_builtin(name)))
		return NULL;
	if (len)
		*len = d->len;
	if (origin)
		*origin = xstrdup("builtin");
	return xstrndup(d->data, d->len);
}
