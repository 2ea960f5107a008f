// Placeholder: the rotating log sink shared by both OSes lands here.
