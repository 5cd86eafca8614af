// cmfd: a server for the REST webservice of Pimcore's Customer Management
// Framework. The subcommands live in this folder, one file each.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/commands.h"
#include "cli/copy_command.h"
#include "cli/import_command.h"

int main(int argc, char** argv) {
  CLI::App app("cmfd serves the REST webservice of Pimcore's Customer Management Framework "
               "(CMF) from a SQLite or PostgreSQL database.",
               "cmfd");
  app.set_version_flag("--version", std::string("cmfd ") + CMFD_VERSION,
                       "print the version and exit");
  app.require_subcommand(1);

  cmfd::AddServeCommand(app);
  cmfd::AddApiKeyCommand(app);
  cmfd::AddImportCommand(app);
  cmfd::AddCopyCommand(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    std::cerr << "cmfd: " << error.what() << std::endl;
    return 1;
  }
  return 0;
}
