using ProfileUpdate.Cli;

return await CliApp.RunAsync(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected);
