import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { queryShapes, slotRow } from './query-shapes.js';

interface Schema {
  t: { id: string; n: number; note: string | null };
}

describe('compiled query shapes', () => {
  const databases: Database.Database[] = [];
  afterEach(() => {
    for (const database of databases.splice(0)) database.close();
  });
  const open = () => {
    const database = new Database(':memory:');
    databases.push(database);
    database.exec('create table t (id text primary key, n integer not null, note text)');
    return new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
  };

  it('runs a shape again with new values, in the placeholders order', async () => {
    const db = open();
    for (const row of [
      { id: 'a', n: 1, note: 'x' },
      { id: 'b', n: 2, note: null },
    ]) {
      await queryShapes.execute(
        db as Kysely<never>,
        'test insert t',
        (slot) => db.insertInto('t').values(slotRow(row, slot)),
        row,
      );
    }
    // A value used twice and placeholders out of column order.
    const result = await queryShapes.execute(
      db as Kysely<never>,
      'test update t',
      (slot) =>
        db
          .updateTable('t')
          .set({ n: sql<number>`n + ${slot('by')}`, note: slot('note') })
          .where('id', 'in', [slot('first'), slot('second')])
          .where('n', '<', slot('by'))
          .returningAll(),
      { by: 2, note: 'y', first: 'a', second: 'b' },
    );
    expect(result.rows).toEqual([{ id: 'a', n: 3, note: 'y' }]);
    expect(await db.selectFrom('t').selectAll().orderBy('id').execute()).toEqual([
      { id: 'a', n: 3, note: 'y' },
      { id: 'b', n: 2, note: null },
    ]);
  });

  it('builds a query anew when a parameter is not a placeholder', async () => {
    const db = open();
    await db.insertInto('t').values({ id: 'a', n: 1, note: null }).execute();
    let builds = 0;
    const count = (limit: number) =>
      queryShapes.execute(
        db as Kysely<never>,
        'test count with an inlined value',
        (slot) => {
          builds += 1;
          // `limit` is a value of the builder's own, not a placeholder: no shape is kept.
          return db.selectFrom('t').select('id').where('n', '>=', slot('min')).limit(limit);
        },
        { min: 1 },
      );
    expect((await count(1)).rows).toEqual([{ id: 'a' }]);
    expect((await count(0)).rows).toEqual([]);
    expect(builds).toBe(3);
  });
});
