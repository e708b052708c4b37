/*
 * dbsetup doctor: what the next boot would do, and why, without changing
 * anything. It runs the boot's own phases (lib/boot.c) as a dry run and
 * prints the plan phase by phase, then the verdict.
 */
#ifndef DBS_DOCTOR_H
#define DBS_DOCTOR_H

/*
 * `dbsetup doctor [--json] [--quick-check] [the boot's OPTIONS] [--
 * COMMAND...]`; argv[0] is "doctor". Returns 0 when the boot would reach
 * the app, else the exit status the boot would stop with (64 for a bad
 * doctor option).
 */
int dbs_doctor_main(int argc, char** argv);

#endif
