global using System.CommandLine;
global using ProfileUpdate.Client;
global using Spectre.Console;
