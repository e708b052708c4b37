// Prisma 7 reads its settings here, not from schema.prisma or package.json.
// dbsetup reads this file without running it: the database is the url
// (relative to the app's working directory, /app, as the driver adapter
// opens it: /app/dev.db, which dbsetup links onto the volume as
// /data/dev.db), the migrations are applied natively, and the seed runs
// once, on a new database.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: {
    path: "prisma/migrations",
    seed: "node prisma/seed.js",
  },
  datasource: {
    url: process.env.DATABASE_URL ?? "file:./dev.db",
  },
});
