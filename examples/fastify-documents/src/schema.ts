/**
 * The example's tables: Ballast's default documents and chunks tables, plus what the app adds on
 * top. A `version` on documents, so a rename is a conditional write (ETag / If-Match) and two
 * people renaming the same document never silently overwrite each other; and share links, which
 * expire (`expires_at`) and are revoked by a soft delete (`deleted_at`) that can be undone.
 */
import { migrateDocuments } from '@ballast/adapters/postgres';
import { type Kysely, sql } from 'kysely';

/** Creates every table the example needs if it does not exist. Safe at every start-up. */
export async function migrateExample(db: Kysely<unknown>): Promise<void> {
  await migrateDocuments(db);
  await sql`ALTER TABLE documents ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1`.execute(
    db,
  );
  await sql`
    CREATE TABLE IF NOT EXISTS shares (
      token       uuid        PRIMARY KEY,
      document_id uuid        NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
      expires_at  timestamptz NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now(),
      deleted_at  timestamptz
    )`.execute(db);
}
