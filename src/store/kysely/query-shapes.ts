/**
 * Compiled queries kept by shape, for the statements every run executes (bench/runs, issue 4). Kysely builds
 * and compiles a query anew on each call, about a tenth of a blocking run's CPU in the profile; a run's
 * statements have a handful of shapes that differ only in their parameters. A shape is compiled once, with
 * placeholders ({@link Slot}) where its values go, by the same builder code and for the connection's own
 * dialect; later calls send that SQL with the values in the placeholders' order.
 *
 * A shape whose compiled parameters are not all placeholders (a builder inlined or added a value of its
 * own) is not kept, and runs through Kysely as usual.
 * @module
 */
import { type Compilable, CompiledQuery, type Kysely, PostgresAdapter, type QueryResult } from 'kysely';

/** Stands for the value named `name` while a shape compiles. */
class Slot {
  constructor(readonly name: string) {}
}

/** Hands out placeholders while a shape is built: `slot('run_id')` where the run id goes. */
export type SlotOf = (name: string) => never;

interface Shape {
  sql: string;
  names: string[];
}

/** How many shapes stay compiled; run statements have a few dozen per dialect. */
const MAX_SHAPES = 512;

/** Compiled shapes by dialect and key (the SQL text of a shape depends on nothing else). */
class QueryShapes {
  private readonly shapes = new Map<string, Shape | null>();

  /**
   * Runs the query that `build` makes from placeholders, with `values` in their place. `key` must name
   * everything that changes the SQL (tables, columns, list lengths); `build` gets the executor to use.
   */
  async execute<R>(
    db: Kysely<never>,
    key: string,
    build: (slot: SlotOf) => Compilable<R>,
    values: Record<string, unknown>,
  ): Promise<QueryResult<R>> {
    const dialectKey = `${db.getExecutor().adapter instanceof PostgresAdapter ? 'pg' : 'sqlite'} ${key}`;
    let shape = this.shapes.get(dialectKey);
    if (shape === undefined) {
      shape = compileShape(build);
      if (this.shapes.size >= MAX_SHAPES) this.shapes.delete(this.shapes.keys().next().value as string);
      this.shapes.set(dialectKey, shape);
    }
    if (shape === null) {
      // Not a pure shape: build it again with the real values.
      const compiled = build(((name: string) => values[name]) as SlotOf).compile();
      return db.executeQuery(compiled);
    }
    const parameters = shape.names.map((name) => values[name]);
    return db.executeQuery(CompiledQuery.raw(shape.sql, parameters)) as Promise<QueryResult<R>>;
  }
}

function compileShape(build: (slot: SlotOf) => Compilable<unknown>): Shape | null {
  const compiled = build(((name: string) => new Slot(name)) as SlotOf).compile();
  const names: string[] = [];
  for (const parameter of compiled.parameters) {
    if (!(parameter instanceof Slot)) return null;
    names.push(parameter.name);
  }
  return { sql: compiled.sql, names };
}

/** The process's compiled shapes. */
export const queryShapes = new QueryShapes();

/** `row` with a placeholder per defined column, and the key part naming those columns. */
export function slotRow<T extends object>(row: T, slot: SlotOf, prefix = ''): T {
  const slotted: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (value !== undefined) slotted[column] = slot(prefix + column);
  }
  return slotted as T;
}

/** The defined columns of a row, for a shape's key. */
export function columnsOf(row: object): string {
  return Object.entries(row)
    .filter(([, value]) => value !== undefined)
    .map(([column]) => column)
    .join(',');
}

/** Inserts one row through the shape of its defined columns. `db` may be a transaction. */
export async function insertRow<DB, T extends keyof DB & string>(db: Kysely<DB>, table: T, row: object): Promise<void> {
  await queryShapes.execute(
    db as unknown as Kysely<never>,
    `insert ${table} ${columnsOf(row)}`,
    (slot) => db.insertInto(table).values(slotRow(row, slot) as never),
    row as Record<string, unknown>,
  );
}
