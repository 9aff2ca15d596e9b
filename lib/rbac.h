/*
 * rbac.h — who is calling, what they may do, and which accounts they see.
 *
 * Identity is the operating-system login name of the real user, mapped to
 * a row of users in the state file.  --as USER (or $CLIENTPULSE_AS) picks
 * another user, honoured only when the real user is root or owns the state
 * file: that is how tests act as several people, and how one service
 * account serves many AMs through SSH forced commands (clientpulse-shell).
 *
 * Scope is enforced in SQL, never by filtering afterwards:
 * cp_rbac_load_scope() fills the temporary table scope(account_id) with
 * the accounts the caller may see, and every query joins against it and
 * binds the caller's tenant_id.
 *
 *   role      sees (scope)                              may decide
 *   viewer    accounts granted to them                  no
 *   am        accounts they own or are granted          in scope
 *   manager   their own scope and that of everyone      in scope
 *             reporting to them (transitively)
 *   admin     every account of the tenant               in scope
 *
 * Nobody ever sees another tenant.  The full matrix is in clientpulse(7).
 */
#ifndef CP_RBAC_H
#define CP_RBAC_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
	CP_ROLE_VIEWER = 0,
	CP_ROLE_AM = 1,
	CP_ROLE_MANAGER = 2,
	CP_ROLE_ADMIN = 3
} cp_role;

typedef struct cp_user {
	int64_t id;
	int64_t tenant_id;
	int64_t manager_id;     /* 0 when none */
	cp_role role;
	char login[128];
	char tenant[128];
	char os_login[128];     /* the real user behind --as */
} cp_user;

typedef enum {
	CP_ACT_READ,            /* list, show, search, stats, account show */
	CP_ACT_EXPORT,          /* export cards */
	CP_ACT_DECIDE,          /* approve, reject, refine */
	CP_ACT_ASSIGN,          /* reassign an account's owner (in scope) */
	CP_ACT_ACCOUNT_ADMIN,   /* add, import, remove accounts */
	CP_ACT_USER_ADMIN,      /* add users, grant, revoke, roles */
	CP_ACT_AUDIT_READ,      /* read the audit log */
	CP_ACT_TENANT_ADMIN,    /* tenant settings (review SLA) */
	CP_ACT_AUDIT_VERIFY     /* walk the whole audit chain */
} cp_action;

const char *cp_role_name(cp_role r);
bool cp_role_parse(const char *s, cp_role *out);
const char *cp_action_name(cp_action a);

/* The real user's login name (getpwuid of getuid). */
int cp_os_login(char *out, size_t size);
/* Whether --as may be honoured: real uid 0, or the owner of the file. */
bool cp_may_impersonate(const char *db_path);

/*
 * Resolve the caller.  as: --as value or NULL; tenant: --tenant or NULL
 * (needed only when the login exists in several tenants).  Returns 0, or
 * CP_EX_NOPERM after a message saying how to be added.
 */
int cp_whoami(sqlite3 *db, const char *as, const char *tenant, cp_user *out);
/* The audit actor string: "alice", or "alice (via root)" under --as. */
void cp_user_actor(const cp_user *u, char *out, size_t size);

/* May this role do this kind of action at all? */
bool cp_rbac_allows(const cp_user *u, cp_action a);
/* Fill temp.scope(account_id) with the caller's accounts; 0 or rc. */
int cp_rbac_load_scope(sqlite3 *db, const cp_user *u);
/* Is the account in the caller's scope (tenant checked too)? */
bool cp_rbac_in_scope(sqlite3 *db, const cp_user *u, const char *account_id);
/* Is user_id the caller or (for a manager) in their reporting tree, or
 * (for an admin) anyone in the tenant? */
bool cp_rbac_in_team(sqlite3 *db, const cp_user *u, int64_t user_id);
/* Deny: print "prog: <what>: not found or not permitted" and return 77.
 * The same words whether the object is missing or out of scope, so a
 * denial never reveals what exists. */
int cp_rbac_deny(const char *what);
/* Role check with the standard message; 0 when allowed, else 77. */
int cp_rbac_require(const cp_user *u, cp_action a);

/* Tenant id by name (0 when missing). */
int64_t cp_tenant_id(sqlite3 *db, const char *name);
/* User id by login within a tenant (0 when missing). */
int64_t cp_user_id(sqlite3 *db, int64_t tenant_id, const char *login);

#endif
