// The catalog's volumes as `list volumes` prints them (real Bacula 9.6.7 outputs captured from the
// e2e harness's Director: test/bacula/fixtures/list-volumes-*.txt): which pool each row is in,
// its status, its bytes, whether Bacula may recycle it and when its retention ends.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { catalogVolumes, listedVolumes } from "../../src/bacula/catalog.ts";

const fixture = (name: string) =>
  readFileSync(
    join(import.meta.dir, "fixtures", `list-volumes-${name}.txt`),
    "utf8",
  );

describe("catalogVolumes", () => {
  test("`list volumes` of every pool: each row under the `Pool:` line before its table", () => {
    expect(catalogVolumes(fixture("after-swap"))).toEqual([
      {
        name: "mcexp_0001_0001",
        pool: "mc-pool",
        status: "Purged",
        enabled: true,
        bytes: 7442022,
        recycle: true,
        inChanger: false,
        expiresIn: 31535999,
      },
      {
        name: "mcexp_0001_0002",
        pool: "mc-pool",
        status: "Purged",
        enabled: true,
        bytes: 217,
        recycle: true,
        inChanger: false,
        expiresIn: 0,
      },
      {
        name: "mcexp_0001_0003",
        pool: "mc-pool",
        status: "Used",
        enabled: true,
        bytes: 12580057,
        recycle: false,
        inChanger: false,
        expiresIn: 31535998,
      },
      {
        name: "mcexp_0002_0001",
        pool: "mc-pool",
        status: "Append",
        enabled: true,
        bytes: 217,
        recycle: false,
        inChanger: true,
        expiresIn: 0,
      },
      {
        name: "mcexp_0002_0002",
        pool: "mc-pool",
        status: "Append",
        enabled: true,
        bytes: 217,
        recycle: false,
        inChanger: true,
        expiresIn: 0,
      },
    ]);
  });

  test("`list volumes pool=P` prints no `Pool:` line: the rows are the pool the command named", () => {
    expect(
      catalogVolumes(fixture("pool")).map((v) => [v.name, v.pool, v.status]),
    ).toEqual([
      ["mcexp_0001_0001", "mc-pool", "Append"],
      ["mcexp_0001_0002", "mc-pool", "Append"],
      ["mcexp_0001_0003", "mc-pool", "Used"],
      ["mcexp_0001_0004", "mc-pool", "Full"],
    ]);
  });

  test("a pool the Director lacks: 9.6.7 lists another pool instead, and the rows are that pool's", () => {
    expect(
      new Set(catalogVolumes(fixture("unknown-pool")).map((v) => v.pool)),
    ).toEqual(new Set(["mc-pool"]));
  });

  test("a row listed twice (the pool, then every pool) is one volume; a table of no known pool is skipped", () => {
    const text = `${fixture("pool")}\n${fixture("after-swap")}`;
    const volumes = catalogVolumes(text);
    expect(volumes.map((v) => v.name)).toEqual([
      "mcexp_0001_0001",
      "mcexp_0001_0002",
      "mcexp_0001_0003",
      "mcexp_0001_0004",
      "mcexp_0002_0001",
      "mcexp_0002_0002",
    ]);
    expect(volumes[0]?.status).toBe("Purged");
    const header = fixture("after-swap").split("\n").slice(7).join("\n");
    expect(catalogVolumes(header)).toEqual([]);
    expect(listedVolumes(header).size).toBe(5);
  });

  test("a listing without ExpiresIn (another version) leaves it out; damaged numbers are not volumes", () => {
    const text = `Pool: P
| MediaId | VolumeName | VolStatus | Enabled | VolBytes | Recycle |
| 1       | v1         | Full      | 1       | 1,024    | 1       |
| 2       | v2         | Full      | 1       | lots     | 1       |
`;
    expect(catalogVolumes(text)).toEqual([
      {
        name: "v1",
        pool: "P",
        status: "Full",
        enabled: true,
        bytes: 1024,
        recycle: true,
        inChanger: false,
      },
    ]);
  });
});
