# ctest-labels: integration;prisma
# ctest-timeout: 400
# dbsetup's native migrations against the real Prisma 6 CLI: the checks
# are in prisma_interop_lib.sh (one list for every Prisma version).
PRISMA_MAJOR=6
. "$(dirname "$0")/prisma_interop_lib.sh"
