package usersvc

import (
	"context"
	"strconv"
	"strings"
)

// spanish translates the English message catalog. Every format string passed
// to Errorf or FieldErrorf in this module (errorf or fieldErrorf in package
// jsonpatch, whose messages JSONError passes on) has an entry (a test checks).
var spanish = map[string]string{
	"%s must be an integer.":                                                "%s debe ser un entero.",
	"A PATCH holds at most %d operations.":                                  "Un PATCH contiene como máximo %d operaciones.",
	"A remove needs a path.":                                                "Una eliminación necesita una ruta.",
	"A value filter cannot hold another.":                                   "Un filtro de valores no puede contener otro.",
	"An operation without a path needs an object as its value.":             "Una operación sin ruta necesita un objeto como valor.",
	"An operation's op must be add, replace or remove.":                     "El op de una operación debe ser add, replace o remove.",
	"An operation's path must be a string.":                                 "La ruta de una operación debe ser una cadena.",
	"Attribute %q has a value of the wrong type.":                           "El atributo %q tiene un valor de tipo incorrecto.",
	"Attribute %q is required.":                                             "El atributo %q es obligatorio.",
	"Each operation must be an object with op, path and value.":             "Cada operación debe ser un objeto con op, path y value.",
	"Groups are filtered by displayName, externalId or id eq a value.":      "Los grupos se filtran por displayName, externalId o id eq un valor.",
	"Members are removed by a filter on value: members[value eq \"<id>\"].": "Los miembros se eliminan con un filtro sobre value: members[value eq \"<id>\"].",
	"No attribute of this service compares with a number.":                  "Ningún atributo de este servicio se compara con un número.",
	"Only eq and ne compare with null.":                                     "Solo eq y ne se comparan con null.",
	"Operations must be a list of operations.":                              "Operations debe ser una lista de operaciones.",
	"The body is not valid JSON.":                                           "El cuerpo no es JSON válido.",
	"The body must be a JSON object.":                                       "El cuerpo debe ser un objeto JSON.",
	"The filter cannot be read: %s":                                         "El filtro no se puede leer: %s",
	"The filter compares %s with %q, which is not an RFC 3339 instant.":     "El filtro compara %s con %q, que no es un instante RFC 3339.",
	"The filter is longer than %d bytes.":                                   "El filtro tiene más de %d bytes.",
	"The filter names an attribute that cannot be filtered on: %s":          "El filtro nombra un atributo por el que no se puede filtrar: %s",
	"The path %q cannot be read.":                                           "La ruta %q no se puede leer.",
	"The path %q cannot be removed.":                                        "La ruta %q no se puede eliminar.",
	"The path %q cannot be written; add or remove members instead.":         "La ruta %q no se puede escribir; añada o elimine miembros.",
	"The path %q filters an attribute that is not multi-valued.":            "La ruta %q filtra un atributo que no es multivalor.",
	"The path %q matches no value.":                                         "La ruta %q no coincide con ningún valor.",
	"The path %q names a read-only attribute.":                              "La ruta %q nombra un atributo de solo lectura.",
	"The path %q names no attribute of the Group.":                          "La ruta %q no nombra ningún atributo del Group.",
	"The path %q names no attribute of the User.":                           "La ruta %q no nombra ningún atributo del User.",
	"Unknown attribute %q in attributes or excludedAttributes.":             "Atributo %q desconocido en attributes o excludedAttributes.",
	"Unsupported Content-Type %q; use application/scim+json.":               "Content-Type %q no admitido; use application/scim+json.",
	"The filter cannot be run on this attribute.":                           "El filtro no se puede aplicar a este atributo.",
	"The filter has more than %d terms.":                                    "El filtro tiene más de %d términos.",
	"The filter is empty.":                                                  "El filtro está vacío.",
	"The filter's value does not fit its attribute.":                        "El valor del filtro no corresponde a su atributo.",
	"Unknown filter operator %q.":                                           "Operador de filtro %q desconocido.",
	"The request was cancelled.":                                            "La solicitud fue cancelada.",
	"The import mode must be %q or %q.":                                     "El modo de importación debe ser %q o %q.",
	"Reading the input: %s":                                                 "Leyendo la entrada: %s",
	"The line is not JSON: %s":                                              "La línea no es JSON: %s",
	"The line holds more than one JSON value.":                              "La línea contiene más de un valor JSON.",
	"An id is 1 to 64 bytes of printable text without spaces, /, ?, # or %s, and not countries, timeZones, import or export.": "Un id tiene de 1 a 64 bytes de texto imprimible sin espacios, /, ?, # ni %s, y no es countries, timeZones, import ni export.",
	"Field %q must be a non-empty string.":                    "El campo %q debe ser una cadena no vacía.",
	"Field %q must be a non-empty string, with passwordHash.": "El campo %q debe ser una cadena no vacía, junto con passwordHash.",
	"Give password or passwordHash, not both.":                "Indique password o passwordHash, no ambos.",
	"%s":                                     "%s", // a message made elsewhere (passhash's, in English), passed on as it is
	"A user with this id already exists.":    "Ya existe un usuario con este id.",
	"A user with this email already exists.": "Ya existe un usuario con este correo electrónico.",
	"A user with this id or email already exists.":                                      "Ya existe un usuario con este id o correo electrónico.",
	"Only administrators may import or export users.":                                   "Solo los administradores pueden importar o exportar usuarios.",
	"The server is stopping; start the import again.":                                   "El servidor se está deteniendo; vuelva a iniciar la importación.",
	"Import job not found.":                                                             "Trabajo de importación no encontrado.",
	"An Idempotency-Key is 1 to %d bytes of text.":                                      "Una Idempotency-Key tiene de 1 a %d bytes de texto.",
	"Reading the body: %s":                                                              "Leyendo el cuerpo: %s",
	"An import body is at most %d bytes; import larger files with usersvc import.":      "Un cuerpo de importación tiene como máximo %d bytes; importe archivos mayores con usersvc import.",
	"Unsupported Content-Type %q; use application/x-ndjson.":                            "Content-Type %q no admitido; use application/x-ndjson.",
	"Group not found.":                                                                  "Grupo no encontrado.",
	"Only administrators may manage groups.":                                            "Solo los administradores pueden gestionar grupos.",
	"The offset must not be negative.":                                                  "El desplazamiento no debe ser negativo.",
	"The count must be between 0 and %d.":                                               "La cantidad debe estar entre 0 y %d.",
	"At most %d members may be named in one change.":                                    "Como máximo se pueden indicar %d miembros en un cambio.",
	"User %q does not exist or is deleted.":                                             "El usuario %q no existe o está eliminado.",
	"A group with this displayName already exists.":                                     "Ya existe un grupo con este displayName.",
	"The group kept changing while this change was being saved; try again.":             "El grupo siguió cambiando mientras se guardaba este cambio; inténtelo de nuevo.",
	"User not found.":                                                                   "Usuario no encontrado.",
	"Invalid email.":                                                                    "Correo electrónico inválido.",
	"Email already in use.":                                                             "El correo electrónico ya está en uso.",
	"Only administrators may provision users over SCIM.":                                "Solo los administradores pueden aprovisionar usuarios por SCIM.",
	"This token is a SCIM provisioning key; it is accepted only by /scim/v2.":           "Este token es una clave de aprovisionamiento SCIM; solo lo acepta /scim/v2.",
	"A token's scope is %q or none.":                                                    "El alcance de un token es %q o ninguno.",
	"Only an administrator may own a SCIM provisioning key.":                            "Solo un administrador puede tener una clave de aprovisionamiento SCIM.",
	"Email or userName already in use.":                                                 "El correo electrónico o el userName ya está en uso.",
	"Field %q must be an object.":                                                       "El campo %q debe ser un objeto.",
	"Field %q is too large (at most %d bytes as JSON).":                                 "El campo %q es demasiado grande (como máximo %d bytes en JSON).",
	"Invalid patch operation":                                                           "Operación de parche inválida",
	"Patch test failed":                                                                 "La prueba del parche falló",
	"Invalid time zone.":                                                                "Zona horaria inválida.",
	"Internal server error.":                                                            "Error interno del servidor.",
	"Authentication required.":                                                          "Se requiere autenticación.",
	"Invalid or expired token.":                                                         "Token inválido o caducado.",
	"This account is disabled.":                                                         "Esta cuenta está deshabilitada.",
	"This account has been deleted.":                                                    "Esta cuenta ha sido eliminada.",
	"This account is not active yet.":                                                   "Esta cuenta aún no está activa.",
	"This account has expired.":                                                         "Esta cuenta ha caducado.",
	"A JSON object in the body has more than %d members.":                               "Un objeto JSON del cuerpo tiene más de %d miembros.",
	"A JSON array in the body has more than %d elements.":                               "Un array JSON del cuerpo tiene más de %d elementos.",
	"Field %q must not contain control or invisible characters (U+%04X).":               "El campo %q no debe contener caracteres de control ni invisibles (U+%04X).",
	"Too many WebSocket connections being opened from this address; try again later.":   "Demasiadas conexiones WebSocket abriéndose desde esta dirección; inténtelo más tarde.",
	"Too many open WebSocket connections for this user (at most %d); close some first.": "Demasiadas conexiones WebSocket abiertas para este usuario (como máximo %d); cierre alguna primero.",
	"Too many subscriptions started on this connection; at most %d a second.":           "Demasiadas suscripciones iniciadas en esta conexión; como máximo %d por segundo.",
	"Malformed JSON body.":                                                              "Cuerpo JSON mal formado.",
	"JSON body is nested too deeply.":                                                   "El cuerpo JSON está anidado demasiado profundamente.",
	"Duplicate key %q in JSON body.":                                                    "Clave %q duplicada en el cuerpo JSON.",
	"The user must be a JSON object.":                                                   "El usuario debe ser un objeto JSON.",
	"Unknown field %q.":                                                                 "Campo desconocido %q.",
	"Field %q is required.":                                                             "El campo %q es obligatorio.",
	"Field %q must be a boolean.":                                                       "El campo %q debe ser un booleano.",
	"Field %q must be an integer.":                                                      "El campo %q debe ser un número entero.",
	"Field %q must be an object of strings.":                                            "El campo %q debe ser un objeto de cadenas.",
	"Field %q must be an array of strings.":                                             "El campo %q debe ser una lista de cadenas.",
	"Field %q must be \"user\" or \"admin\".":                                           "El campo %q debe ser \"user\" o \"admin\".",
	"Field %q must be a string.":                                                        "El campo %q debe ser una cadena.",
	"Field %q must be an RFC 3339 timestamp.":                                           "El campo %q debe ser una fecha RFC 3339.",
	"Request body is too large (limit %d bytes).":                                       "El cuerpo de la petición es demasiado grande (límite %d bytes).",
	"Could not read the request body.":                                                  "No se pudo leer el cuerpo de la petición.",
	"The request body must be one JSON object with a GraphQL \"query\".":                "El cuerpo de la petición debe ser un objeto JSON con una \"query\" GraphQL.",
	"The query string is malformed.":                                                    "La cadena de consulta está mal formada.",
	"Field %q must not be empty.":                                                       "El campo %q no debe estar vacío.",
	"Field %q must be between 0 and %d.":                                                "El campo %q debe estar entre 0 y %d.",
	"Field \"from\" must not be after \"expires\".":                                     "El campo \"from\" no debe ser posterior a \"expires\".",
	"Field %q has too many entries (at most %d).":                                       "El campo %q tiene demasiadas entradas (como máximo %d).",
	"Tag names must not be empty.":                                                      "Los nombres de etiqueta no deben estar vacíos.",
	"Privileges must be non-empty strings.":                                             "Los privilegios deben ser cadenas no vacías.",
	"Privilege %q is listed twice.":                                                     "El privilegio %q aparece dos veces.",
	"Password must be at least %d characters and at most %d bytes long.":                "La contraseña debe tener al menos %d caracteres y como máximo %d bytes.",
	"Field %q must be valid text.":                                                      "El campo %q debe ser texto válido.",
	"Field %q is too long (at most %d characters).":                                     "El campo %q es demasiado largo (como máximo %d caracteres).",
	"You may not change field %q.":                                                      "No puede cambiar el campo %q.",
	"Field \"deletedAt\" can only be set back to null; delete users with DELETE.":       "El campo \"deletedAt\" solo puede volver a null; elimine usuarios con DELETE.",
	"Field %q is read-only.":                                                            "El campo %q es de solo lectura.",
	"A JSON Patch must be an array of operations.":                                      "Un JSON Patch debe ser una lista de operaciones.",
	"The patch is empty.":                                                               "El parche está vacío.",
	"A patch may hold at most %d operations.":                                           "Un parche puede tener como máximo %d operaciones.",
	"The patched document must be a JSON object.":                                       "El documento parcheado debe ser un objeto JSON.",
	"The id in the body does not match the id in the path.":                             "El id del cuerpo no coincide con el id de la ruta.",
	"Precondition Failed":                                                               "Precondición fallida",
	"Invalid user id.":                                                                  "Id de usuario inválido.",
	"Token lifetime must be positive.":                                                  "La duración del token debe ser positiva.",
	"Unsupported Content-Type %q; use application/json-patch+json or application/merge-patch+json.": "Content-Type %q no admitido; use application/json-patch+json o application/merge-patch+json.",
	"Unsupported Content-Type %q; use application/json.":                                            "Content-Type %q no admitido; use application/json.",
	"Only administrators may create users.":                                                         "Solo los administradores pueden crear usuarios.",
	"Page size must be between 1 and %d.":                                                           "El tamaño de página debe estar entre 1 y %d.",
	"Invalid cursor.":                                                                               "Cursor inválido.",
	"Only administrators may follow every user's changes.":                                          "Solo los administradores pueden seguir los cambios de todos los usuarios.",
	"The subscriber is too slow; subscribe again.":                                                  "El suscriptor es demasiado lento; vuelva a suscribirse.",
	"Too many subscriptions for this user; close some first.":                                       "Demasiadas suscripciones para este usuario; cierre alguna primero.",
	"Too many subscriptions on this server; try again later.":                                       "Demasiadas suscripciones en este servidor; inténtelo más tarde.",
	"Daily request quota exceeded.":                                                                 "Cuota diaria de peticiones superada.",
	"Invalid API key or username.":                                                                  "Clave de API o nombre de usuario inválidos.",
	"Too many failed sign-ins; try again later.":                                                    "Demasiados inicios de sesión fallidos; inténtelo más tarde.",
	"Only one sign-in per request.":                                                                 "Solo un inicio de sesión por petición.",
	"An API key needs a label of 1 to %d characters.":                                               "Una clave de API necesita una etiqueta de 1 a %d caracteres.",
	"API key not found.":                                                                            "Clave de API no encontrada.",
	"The last active administrator cannot be demoted, disabled, deleted or made inactive.":          "El último administrador activo no puede ser degradado, deshabilitado, eliminado ni desactivado.",
	"Changing your password needs your current password (currentPassword).":                         "Cambiar su contraseña requiere su contraseña actual (currentPassword).",
	"The user kept changing while this change was being saved; try again.":                          "El usuario cambió mientras se guardaba este cambio; inténtelo de nuevo.",
	"Field %q must be \"asc\" or \"desc\".":                                                         "El campo %q debe ser \"asc\" o \"desc\".",
	"The request took too long.":                                                                    "La petición tardó demasiado.",
	"Too many password checks are running; try again shortly.":                                      "Hay demasiadas comprobaciones de contraseña en curso; inténtelo de nuevo en breve.",
	"The database is unavailable; try again shortly.":                                               "La base de datos no está disponible; inténtelo de nuevo en breve.",
	"Method not allowed.":                                                                           "Método no permitido.",
	"Not found.":                                                                                    "No encontrado.",
	"Tokens are accepted only in the Authorization header.":                                         "Los tokens solo se aceptan en la cabecera Authorization.",

	// Import jobs: the spool and idempotency keys.
	"The imports running now fill the spool (%d bytes); try again when they end.":                                       "Las importaciones en curso llenan el espacio de espera (%d bytes); inténtelo de nuevo cuando terminen.",
	"This Idempotency-Key was used for another request (another body, mode or dryRun); use a new key for a new import.": "Esta Idempotency-Key se usó para otra petición (otro cuerpo, modo o dryRun); use una clave nueva para una importación nueva.",

	// A handler built without import jobs (rest, server.Config.Imports).
	"Import jobs do not run in this server; use usersvc import.": "Los trabajos de importación no se ejecutan en este servidor; use usersvc import.",
}

type langKey struct{}

// WithLang returns ctx carrying the language answers should use.
func WithLang(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, langKey{}, lang)
}

// LangFrom returns the language carried by ctx, "en" by default.
func LangFrom(ctx context.Context) string {
	if l, ok := ctx.Value(langKey{}).(string); ok {
		return l
	}
	return "en"
}

// NegotiateLang picks "es" or "en" from an Accept-Language header: the
// supported language with the highest q wins; ties go to the earlier entry;
// no match is English.
func NegotiateLang(header string) string {
	best, bestQ := "en", 0.0
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		tag := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			p = strings.TrimSpace(p)
			if v, ok := strings.CutPrefix(p, "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0
				}
			}
		}
		base, _, _ := strings.Cut(tag, "-")
		if (base == "es" || base == "en") && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}
