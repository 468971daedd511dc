// Namespaces nearly every file of the service uses: the settings and their validation attributes, the text primitives,
// typed results and options.
global using System.ComponentModel.DataAnnotations;
global using Microsoft.AspNetCore.Http.HttpResults;
global using Microsoft.Extensions.Options;
global using ProfileUpdate.Api.Configuration;
global using ProfileUpdate.Api.Text;
