package project

import (
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// compose reads the services' command: lines of a Compose file (compose.yaml,
// compose.yml, docker-compose.yaml, docker-compose.yml: the names `docker
// compose` looks for, Compose specification, "Compose file"), in either
// form the specification allows: a string, split as a shell would, or a
// list of words (Compose specification, services "command"). Each command
// is recognised with the tool table (report.ToolFromCommand), as a
// Procfile line is.
func (s *scanner) compose() {
	for _, name := range []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"} {
		p := filepath.Join(s.dir, name)
		data, ok := s.read(p)
		if !ok {
			continue
		}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			s.skip(p, "does not parse: "+err.Error())
			continue
		}
		if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
			continue
		}
		services := deref(mapValue(root.Content[0], "services"))
		if services == nil || services.Kind != yaml.MappingNode {
			continue
		}
		ls := lines(data)
		for i := 0; i+1 < len(services.Content); i += 2 {
			svc := deref(services.Content[i+1])
			if svc == nil || svc.Kind != yaml.MappingNode {
				continue
			}
			cmd := deref(mapValue(svc, "command"))
			if cmd == nil {
				continue
			}
			text := ""
			if cmd.Line > 0 && cmd.Line <= len(ls) {
				text = ls[cmd.Line-1]
			}
			switch cmd.Kind {
			case yaml.ScalarNode:
				s.command(p, cmd.Line, text, cmd.Value)
			case yaml.SequenceNode:
				var words []string
				for _, w := range cmd.Content {
					if w.Kind == yaml.ScalarNode {
						words = append(words, w.Value)
					}
				}
				if t := strings.TrimSpace(text); t == "" || strings.HasSuffix(t, ":") {
					text = strings.TrimSpace(text) + " " + composeText(words)
				}
				s.commandWords(p, cmd.Line, text, words)
			}
		}
	}
}

// composeText is a list command's words joined for the finding's text
// when its own line is only the key ("command:" followed by "- word").
func composeText(words []string) string { return strings.Join(words, " ") }
