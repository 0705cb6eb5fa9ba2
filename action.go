package usersvc

// Actions: what a caller asks for (the policy, policy.go, decides on them)
// and what the history records (every write is named as in the history).

// Actions a caller may ask for. Writes are named as in the history.
const (
	ActionRead     = "read"     // user, GET /api/users/{id}
	ActionList     = "list"     // users, GET /api/users
	ActionHistory  = "history"  // a user's history
	ActionAPIKeys  = "apiKeys"  // list a user's API keys
	ActionWatch    = "watch"    // subscription to one user
	ActionWatchAll = "watchAll" // subscription to every user
	ActionImport   = "import"   // users moved in (usersvc import, POST /api/users/import)
	ActionExport   = "export"   // every user out (usersvc export, GET /api/users/export)
	// and the writes below: ActionCreate, ActionReplace, ActionPatch,
	// ActionDelete, ActionRestore, ActionAPIKeyCreate, ActionAPIKeyRevoke.
)

// Actions recorded in the history (writes, and events that are not
// writes of a user).
const (
	ActionCreate       = "create"
	ActionReplace      = "replace"
	ActionPatch        = "patch"
	ActionDelete       = "delete"
	ActionRestore      = "restore"
	ActionLogin        = "login"
	ActionAPIKeyCreate = "apiKey.create"
	ActionAPIKeyRevoke = "apiKey.revoke"
	ActionTokenCreate  = "token.create"
	// ActionExportHashes is recorded in the history of an admin who
	// exported users with their password hashes.
	ActionExportHashes = "export.withPasswordHashes"
)
