/**
 * What a person reads for each code, in English and Spanish, and the registry of further
 * locales. Only `userMessage()` and `toProblem()` (problem.ts) reach this module, so it stays
 * out of bundles that merely throw errors.
 */
import type { BallastErrorCode } from './error-codes.js';

/** User-facing messages by code. Short, calm, and free of internals: they are shown verbatim. */
export type MessageCatalogue = Partial<Record<BallastErrorCode | (string & {}), string>>;

/** The English text of every code (`userMessage(error, 'en')`, problem+json `detail`). */
export const englishMessages = {
  INVALID_OPTIONS: 'The service is misconfigured.',
  VALIDATION_FAILED: 'Some of the data sent is not valid.',
  PAYLOAD_TOO_LARGE: 'The request is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'The request is sent in a format this service does not accept.',
  AUTH_SESSION_EXPIRED: 'Your session expired.',
  PAYMENT_REQUIRED: 'Premium feature.',
  CASE_CLOSED: 'This case is closed.',
  UPLOAD_FAILED: 'The upload failed.',
  FORBIDDEN: 'You are not allowed to do this.',
  NOT_FOUND: 'Not found.',
  VERSION_CONFLICT: 'Someone else changed this record. Reload to see their changes.',
  PRECONDITION_FAILED: 'This record changed since you loaded it.',
  PRECONDITION_REQUIRED: 'This change needs the version you are editing.',
  TRANSACTION_CONFLICT: 'Another change was saved at the same moment. Try again.',
  ALREADY_EXISTS: 'A record with these details already exists.',
  REFERENCE_CONFLICT: 'This record is linked to another one that is missing or still in use.',
  VALUE_REQUIRED: 'A required value is missing.',
  CONSTRAINT_VIOLATED: 'Some of the data sent breaks a rule of this record.',
  EXPIRED: 'This link or invitation has expired.',
  IDEMPOTENCY_KEY_MISSING: 'This request needs an Idempotency-Key header.',
  IDEMPOTENCY_KEY_INVALID: 'The Idempotency-Key header is not valid.',
  IDEMPOTENCY_IN_FLIGHT: 'The same request is still being processed. Try again shortly.',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was already used for a different request.',
  IDEMPOTENCY_STORE_UNAVAILABLE: 'The service is temporarily unavailable. Try again shortly.',
  IDEMPOTENCY_STORE_NOT_MIGRATED: 'The service is not available right now.',
  RATE_LIMITED: 'Too many requests. Please try again later.',
  TIMEOUT: 'The operation took too long.',
  ABORTED: 'The operation was cancelled.',
  CIRCUIT_OPEN: 'The service is temporarily unavailable. Try again shortly.',
  QUEUE_FULL: 'The service is busy. Try again shortly.',
  SERVICE_UNAVAILABLE: 'The service is temporarily unavailable. Try again shortly.',
  NETWORK_ERROR: 'No connection. We will try again.',
  UPSTREAM_ERROR: 'A service we depend on failed. Try again shortly.',
  INVALID_SIGNATURE: 'Direct access is not allowed.',
  SIGNATURE_MISSING: 'Direct access is not allowed.',
  SIGNATURE_EXPIRED: 'The request signature expired.',
  SIGNATURE_INVALID: 'The request signature is not valid.',
  SIGNATURE_REPLAYED: 'This request was already received.',
  STORAGE_UNAVAILABLE: 'File storage is temporarily unavailable.',
  OBJECT_NOT_FOUND: 'The file was not found.',
  INVALID_KEY: 'The file name is not valid.',
  COMPENSATION_FAILED: 'The operation failed and could not be fully undone. Support was notified.',
  BACKUP_IN_PROGRESS: 'A backup is already running. Try again when it has finished.',
  BACKUP_FAILED: 'The backup could not be completed. Support was notified.',
  EVENT_UNKNOWN: 'This event has no known handler.',
  EVENT_INVALID: 'The data of this event is not valid.',
  OUTBOX_NOT_MIGRATED: 'The service is not available right now.',
  INTERNAL: 'Something went wrong on our side.',
} as const satisfies Record<BallastErrorCode, string>;

/** The Spanish text of every code (`userMessage(error, 'es')`, problem+json `detail` with `locale: 'es'`). */
export const spanishMessages = {
  INVALID_OPTIONS: 'El servicio está mal configurado.',
  VALIDATION_FAILED: 'Algunos datos enviados no son válidos.',
  PAYLOAD_TOO_LARGE: 'La solicitud es demasiado grande.',
  UNSUPPORTED_MEDIA_TYPE: 'La solicitud está en un formato que este servicio no acepta.',
  AUTH_SESSION_EXPIRED: 'Tu sesión expiró.',
  PAYMENT_REQUIRED: 'Función Premium.',
  CASE_CLOSED: 'Expediente cerrado.',
  UPLOAD_FAILED: 'Error al subir.',
  FORBIDDEN: 'No tienes permiso para hacer esto.',
  NOT_FOUND: 'No encontrado.',
  VERSION_CONFLICT: 'Otro cambio actualizó este registro. Recarga para ver los cambios.',
  PRECONDITION_FAILED: 'Este registro cambió desde que lo abriste.',
  PRECONDITION_REQUIRED: 'Este cambio necesita la versión que estás editando.',
  TRANSACTION_CONFLICT: 'Otro cambio se guardó en el mismo momento. Inténtalo de nuevo.',
  ALREADY_EXISTS: 'Ya existe un registro con estos datos.',
  REFERENCE_CONFLICT: 'Este registro está vinculado a otro que no existe o que sigue en uso.',
  VALUE_REQUIRED: 'Falta un valor obligatorio.',
  CONSTRAINT_VIOLATED: 'Algunos datos enviados no cumplen una regla de este registro.',
  EXPIRED: 'Este enlace o invitación expiró.',
  IDEMPOTENCY_KEY_MISSING: 'Esta solicitud necesita un encabezado Idempotency-Key.',
  IDEMPOTENCY_KEY_INVALID: 'El encabezado Idempotency-Key no es válido.',
  IDEMPOTENCY_IN_FLIGHT: 'La misma solicitud se está procesando. Inténtalo de nuevo en breve.',
  IDEMPOTENCY_KEY_REUSED: 'Esta Idempotency-Key ya se usó para otra solicitud.',
  IDEMPOTENCY_STORE_UNAVAILABLE:
    'El servicio no está disponible por el momento. Inténtalo en breve.',
  IDEMPOTENCY_STORE_NOT_MIGRATED: 'El servicio no está disponible en este momento.',
  RATE_LIMITED: 'Demasiadas solicitudes. Inténtalo más tarde.',
  TIMEOUT: 'La operación tardó demasiado.',
  ABORTED: 'La operación se canceló.',
  CIRCUIT_OPEN: 'El servicio no está disponible por el momento. Inténtalo en breve.',
  QUEUE_FULL: 'El servicio está ocupado. Inténtalo en breve.',
  SERVICE_UNAVAILABLE: 'El servicio no está disponible por el momento. Inténtalo en breve.',
  NETWORK_ERROR: 'Sin conexión. Se reintentará.',
  UPSTREAM_ERROR: 'Falló un servicio del que dependemos. Inténtalo en breve.',
  INVALID_SIGNATURE: 'Acceso directo no permitido.',
  SIGNATURE_MISSING: 'Acceso directo no permitido.',
  SIGNATURE_EXPIRED: 'La firma de la solicitud expiró.',
  SIGNATURE_INVALID: 'La firma de la solicitud no es válida.',
  SIGNATURE_REPLAYED: 'Esta solicitud ya se recibió.',
  STORAGE_UNAVAILABLE: 'El almacenamiento de archivos no está disponible por el momento.',
  OBJECT_NOT_FOUND: 'No se encontró el archivo.',
  INVALID_KEY: 'El nombre del archivo no es válido.',
  COMPENSATION_FAILED: 'La operación falló y no se pudo deshacer por completo. Se avisó a soporte.',
  BACKUP_IN_PROGRESS: 'Ya hay un respaldo en curso. Inténtalo cuando termine.',
  BACKUP_FAILED: 'No se pudo completar el respaldo. Se avisó a soporte.',
  EVENT_UNKNOWN: 'Este evento no tiene un manejador conocido.',
  EVENT_INVALID: 'Los datos de este evento no son válidos.',
  OUTBOX_NOT_MIGRATED: 'El servicio no está disponible en este momento.',
  INTERNAL: 'Algo salió mal de nuestro lado.',
} as const satisfies Record<BallastErrorCode, string>;

const catalogues = new Map<string, MessageCatalogue>([
  ['en', englishMessages],
  ['es', spanishMessages],
]);

/**
 * Adds or extends the user-facing messages for a locale (`'fr'`, `'pt-BR'`…). Messages for your
 * own error codes go here too. Later calls override earlier ones key by key.
 */
export function registerMessages(locale: string, messages: MessageCatalogue): void {
  catalogues.set(locale, { ...catalogues.get(locale), ...messages });
}

/**
 * The user-facing message for a code in a locale. Falls back from `es-AR` to `es`, then to
 * English, then to the generic internal message, so it always returns something safe to show.
 */
export function messageForCode(code: string, locale = 'en'): string {
  const language = locale.split('-')[0] ?? 'en';
  for (const candidate of [locale, language, 'en']) {
    const message = catalogues.get(candidate)?.[code];
    if (message) return message;
  }
  return englishMessages.INTERNAL;
}

/**
 * The user-facing message for a code in a locale.
 *
 * @deprecated Use `userMessage(codeOrError, locale)`, which takes a code or an error.
 */
export function userMessageFor(code: string, locale = 'en'): string {
  return messageForCode(code, locale);
}
